/**
 * The tier policy (pure) against the default rules: which emails and tickets each transition
 * triggers per tier and severity, who receives them, what is skipped (no recipient, cooldown,
 * already sent), how an escalation updates the one ticket of a signal, and when the
 * resolution note goes out.
 */
import { describe, expect, it } from 'vitest';
import type { AccountRecord, AdvisoryKind, Severity, Ticket } from '../domain/types.ts';
import { defaultBundle, makeAccount, makeSignal, makeTicket, ruleNamed, T0, tierNamed } from '../../test/fixtures/bundle.ts';
import type { EpisodeTransition } from './episode.ts';
import { decide, stableId, type DecideInput, type EpisodeHistory } from './policy.ts';

const bundle = defaultBundle();
const MIN = 60_000;
const HOUR = 60 * MIN;
const WALL = T0 + 2_000;

interface Case {
  transition?: EpisodeTransition;
  tier?: string;
  severity?: Severity;
  account?: AccountRecord;
  rule?: string;
  history?: Partial<EpisodeHistory>;
}

function run(c: Case = {}) {
  const input: DecideInput = {
    transition: c.transition ?? 'opened',
    signal: makeSignal({
      severity: c.severity ?? 'warning',
      tier: c.tier ?? 'growth',
      ...(c.transition === 'resolved' ? { state: 'resolved', resolvedAtMs: T0 + HOUR } : {}),
    }),
    account: c.account ?? makeAccount(),
    tier: tierNamed(c.tier ?? 'growth'),
    rule: ruleNamed(c.rule ?? 'latency_creep'),
    routing: bundle.routing,
    templates: bundle.templates,
    history: { sentKinds: new Set<AdvisoryKind>(), recipients: [], inCooldown: false, ...c.history },
    eventMs: T0,
    nowWallMs: WALL,
    dashboardUrl: 'http://forewarn.local/accounts/acme',
  };
  return decide(input);
}

const kinds = (d: ReturnType<typeof decide>) => d.advisories.map((a) => a.kind);
const CSM = 'dana@vendor.example';
const TECH = 'tech1@acme.example';
const BIZ = 'biz1@acme.example';

describe('decide: opened, by tier and severity', () => {
  it.each<[string, Severity, AdvisoryKind[], boolean]>([
    ['strategic', 'info', [], false],
    ['strategic', 'warning', ['csm_alert', 'technical_advisory'], true],
    ['strategic', 'critical', ['csm_alert', 'technical_advisory'], true],
    ['enterprise', 'warning', ['csm_alert', 'technical_advisory'], true],
    ['enterprise', 'critical', ['csm_alert', 'technical_advisory'], true],
    ['growth', 'info', [], false],
    ['growth', 'warning', ['csm_alert', 'preventive_advisory'], false],
    ['growth', 'critical', ['csm_alert', 'preventive_advisory'], true],
    ['self-serve', 'warning', [], false],
    ['self-serve', 'critical', ['preventive_advisory'], true],
  ])('normal=>open on %s at %s: emails %j, ticket %s', (tier, severity, want, ticket) => {
    const d = run({ tier, severity });
    expect(kinds(d)).toEqual(want);
    expect(d.ticket !== undefined).toBe(ticket);
    expect(d.skipped).toEqual([]);
  });

  it.each<[AdvisoryKind, string]>([
    ['csm_alert', CSM],
    ['technical_advisory', TECH],
  ])('strategic: %s goes to %s only', (kind, to) => {
    const d = run({ tier: 'strategic' });
    expect(d.advisories.find((a) => a.kind === kind)?.to).toEqual([to]);
  });

  it('growth: the preventive advisory goes to the business contacts', () => {
    const d = run({ tier: 'growth' });
    expect(d.advisories.find((a) => a.kind === 'preventive_advisory')?.to).toEqual([BIZ]);
  });
});

describe('decide: recipients and fallbacks', () => {
  const two = [
    { name: 'A', email: 'a@x.example' },
    { name: 'B', email: 'b@x.example' },
  ];
  it.each<[string, string, Partial<AccountRecord>, AdvisoryKind, string[]]>([
    ['preventive: every business contact', 'growth', { businessContacts: two }, 'preventive_advisory', ['a@x.example', 'b@x.example']],
    ['preventive: no business contact -> technical contacts', 'growth', { businessContacts: [] }, 'preventive_advisory', [TECH]],
    ['technical: every technical contact', 'strategic', { technicalContacts: two }, 'technical_advisory', ['a@x.example', 'b@x.example']],
    ['technical: no technical contact -> business contacts', 'strategic', { technicalContacts: [] }, 'technical_advisory', [BIZ]],
  ])('%s', (_name, tier, overrides, kind, to) => {
    const d = run({ tier, account: makeAccount(overrides) });
    expect(d.advisories.find((a) => a.kind === kind)?.to).toEqual(to);
  });

  it('no CSM: the csm_alert is skipped with a reason naming the account, the other email still goes', () => {
    const { csm: _csm, ...noCsm } = makeAccount();
    const d = run({ tier: 'strategic', account: noCsm });
    expect(kinds(d)).toEqual(['technical_advisory']);
    expect(d.skipped).toHaveLength(1);
    expect(d.skipped[0]).toMatch(/^csm_alert: account acme has no recipient/);
    expect(d.ticket).toBeDefined();
  });

  it.each<[string, AdvisoryKind]>([
    ['growth', 'preventive_advisory'],
    ['strategic', 'technical_advisory'],
  ])('no contacts at all on %s: %s skipped', (tier, kind) => {
    const d = run({ tier, account: makeAccount({ technicalContacts: [], businessContacts: [] }) });
    expect(kinds(d)).toEqual(['csm_alert']);
    expect(d.skipped.join('\n')).toContain(`${kind}: account acme has no recipient`);
  });
});

describe('decide: cooldown and at-most-once per signal', () => {
  it('opened in cooldown: every advisory skipped with a reason naming account and rule; the ticket is still opened', () => {
    const d = run({ tier: 'strategic', history: { inCooldown: true } });
    expect(d.advisories).toEqual([]);
    expect(d.skipped).toEqual([
      'csm_alert: account acme rule latency_creep is in its cooldown',
      'technical_advisory: account acme rule latency_creep is in its cooldown',
    ]);
    expect(d.ticket?.state).toBe('open');
  });

  it('escalated while the flag is set: cooldown only holds back episode-opening emails', () => {
    const d = run({ tier: 'growth', transition: 'escalated', severity: 'critical', history: { inCooldown: true } });
    expect(kinds(d)).toEqual(['csm_alert', 'preventive_advisory']);
  });

  it('warning=>critical on growth: the emails already sent are not sent again, the ticket is opened now', () => {
    const d = run({
      tier: 'growth',
      transition: 'escalated',
      severity: 'critical',
      history: { sentKinds: new Set<AdvisoryKind>(['csm_alert', 'preventive_advisory']), recipients: [CSM, BIZ] },
    });
    expect(d.advisories).toEqual([]);
    expect(d.ticket).toMatchObject({ priority: 'P2', severity: 'critical', state: 'open' });
  });

  it('warning=>critical with only the csm_alert sent: the preventive advisory goes now', () => {
    const d = run({
      tier: 'growth',
      transition: 'escalated',
      severity: 'critical',
      history: { sentKinds: new Set<AdvisoryKind>(['csm_alert']) },
    });
    expect(kinds(d)).toEqual(['preventive_advisory']);
  });
});

describe('decide: tickets', () => {
  it.each<[string, Severity, boolean, string]>([
    ['strategic', 'warning', false, 'P2'],
    ['strategic', 'warning', true, 'P1'],
    ['strategic', 'critical', true, 'P1'],
    ['enterprise', 'warning', false, 'P2'],
    ['growth', 'critical', false, 'P2'],
    ['growth', 'critical', true, 'P1'],
    ['self-serve', 'critical', false, 'P3'],
    ['self-serve', 'critical', true, 'P2'],
  ])('%s at %s, business-critical %s -> %s', (tier, severity, businessCritical, priority) => {
    const account = makeAccount({ attributes: { ...makeAccount().attributes, businessCritical } });
    expect(run({ tier, severity, account }).ticket?.priority).toBe(priority);
  });

  it.each([
    ['latency_creep', 'performance', 'sre-performance'],
    ['auth_failure_spike', 'security', 'secops'],
    ['integration_failures', 'integrations', 'integrations-team'],
    ['usage_collapse', 'data', 'data-platform'],
  ])('rule %s (%s) -> queue %s', (rule, domain, queue) => {
    const t = run({ tier: 'strategic', rule }).ticket;
    expect(t).toMatchObject({ domain, queue });
  });

  it.each([
    ['strategic', 15 * MIN, HOUR, 8 * HOUR],
    ['enterprise', 30 * MIN, 2 * HOUR, 24 * HOUR],
  ])('%s: due times are the tier SLOs from the decision wall time', (tier, ack, first, resolve) => {
    const t = run({ tier }).ticket!;
    expect(t.ackDueWallMs).toBe(WALL + ack);
    expect(t.firstResponseDueWallMs).toBe(WALL + first);
    expect(t.resolveDueWallMs).toBe(WALL + resolve);
    expect(t.createdAtWallMs).toBe(WALL);
    expect(t.createdAtMs).toBe(T0);
  });

  it('a new ticket: stable id from the signal, open, level 0, title with severity and account, description with rule and runbook', () => {
    const rule = ruleNamed('latency_creep');
    const t = run({ tier: 'strategic' }).ticket!;
    expect(t).toMatchObject({
      id: stableId('tkt', 'sig-1'),
      signalId: 'sig-1',
      account: 'acme',
      tier: 'strategic',
      state: 'open',
      escalationLevel: 0,
    });
    expect(t.title).toBe(`[warning] Acme Corp: ${makeSignal().summary}`);
    expect(t.description).toContain('Rule: latency_creep (performance)');
    expect(t.description).toContain(rule.runbookUrl);
    expect(t.description).toContain('expected 120, observed 480');
    expect(run({ tier: 'strategic' }).ticket!.id).toBe(t.id);
  });

  const existing = (over: Partial<Ticket> = {}) => makeTicket({ tier: 'strategic', priority: 'P2', severity: 'warning', ...over });

  it('warning=>critical on strategic with a P2 ticket: the same ticket is raised to P1/critical, no second ticket', () => {
    const prev = existing();
    const d = run({
      tier: 'strategic',
      transition: 'escalated',
      severity: 'critical',
      history: { ticket: prev, sentKinds: new Set<AdvisoryKind>(['csm_alert', 'technical_advisory']) },
    });
    expect(d.ticket).toMatchObject({
      id: prev.id,
      priority: 'P1',
      severity: 'critical',
      createdAtWallMs: prev.createdAtWallMs,
      ackDueWallMs: prev.ackDueWallMs,
    });
    expect(d.ticket!.title).toMatch(/^\[critical\]/);
    expect(d.advisories).toEqual([]);
  });

  it.each<[string, Partial<Ticket>, string | undefined]>([
    ['acknowledged ticket is raised and stays acknowledged', { state: 'acknowledged' }, 'acknowledged'],
    ['resolved ticket is left alone (and no new one is opened)', { state: 'resolved' }, undefined],
  ])('warning=>critical: %s', (_name, over, state) => {
    const d = run({ tier: 'strategic', transition: 'escalated', severity: 'critical', history: { ticket: existing(over) } });
    expect(d.ticket?.state).toBe(state);
  });

  it('a ticket already more urgent than the new priority keeps its priority (P1 stays P1), severity still follows', () => {
    const d = run({
      tier: 'growth',
      transition: 'escalated',
      severity: 'critical',
      history: { ticket: existing({ tier: 'growth', priority: 'P1' }) },
    });
    expect(d.ticket).toMatchObject({ priority: 'P1', severity: 'critical' });
  });

  it('nothing changed (same priority and severity): no ticket update', () => {
    const d = run({ tier: 'strategic', transition: 'escalated', severity: 'warning', history: { ticket: existing() } });
    expect(d.ticket).toBeUndefined();
  });
});

describe('decide: resolved', () => {
  it('open=>resolved on growth: one resolution note to everyone notified, duplicates removed', () => {
    const d = run({
      transition: 'resolved',
      history: { sentKinds: new Set<AdvisoryKind>(['csm_alert', 'preventive_advisory']), recipients: [CSM, BIZ, CSM] },
    });
    expect(kinds(d)).toEqual(['resolution_note']);
    expect(d.advisories[0]!.to).toEqual([CSM, BIZ]);
    expect(d.advisories[0]!.subject).toBe(`Resolved: ${ruleNamed('latency_creep').title} (Acme Corp)`);
    expect(d.advisories[0]!.text).toContain('Resolved:  2024-03-07T11:00:00Z');
    expect(d.ticket).toBeUndefined();
  });

  it.each<[string, Case]>([
    [
      'self-serve tier has resolution_note: false',
      { tier: 'self-serve', history: { recipients: [BIZ], sentKinds: new Set<AdvisoryKind>(['preventive_advisory']) } },
    ],
    ['nobody was notified', { tier: 'growth', history: { recipients: [] } }],
    [
      'the note was already queued',
      { tier: 'growth', history: { recipients: [CSM], sentKinds: new Set<AdvisoryKind>(['csm_alert', 'resolution_note']) } },
    ],
  ])('open=>resolved, no note: %s', (_name, c) => {
    const d = run({ ...c, transition: 'resolved' });
    expect(d.advisories).toEqual([]);
  });
});

describe('decide: the drafts', () => {
  it('each draft carries a per-signal dedup key, a stable id, the event and wall times and the rendered template', () => {
    const d = run({ tier: 'strategic', severity: 'critical' });
    const csm = d.advisories.find((a) => a.kind === 'csm_alert')!;
    expect(csm).toMatchObject({
      dedupKey: 'sig-1:csm_alert',
      id: stableId('adv', 'sig-1:csm_alert'),
      signalId: 'sig-1',
      account: 'acme',
      severity: 'critical',
      tier: 'strategic',
      decidedAtMs: T0,
      decidedAtWallMs: WALL,
    });
    expect(csm.subject).toBe(`[critical] Acme Corp: ${ruleNamed('latency_creep').title}`);
    expect(csm.text).toContain('Hi Dana CSM,');
    expect(csm.text).toContain('http://forewarn.local/accounts/acme');
    expect(csm.html).toContain('<!doctype html>');
    const ids = d.advisories.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the account name is HTML-escaped in the html part and left as is in subject and text', () => {
    const d = run({ tier: 'strategic', account: makeAccount({ name: 'R&D <Labs>' }) });
    const a = d.advisories.find((x) => x.kind === 'technical_advisory')!;
    expect(a.subject).toContain('R&D <Labs>');
    expect(a.text).toContain('Hello R&D <Labs> engineering team');
    expect(a.html).toContain('R&amp;D &lt;Labs&gt;');
    expect(a.html).not.toContain('<Labs>');
  });
});
