/**
 * The tier-aware advisory policy, pure: given a signal transition and what was already done for
 * its episode, decides which emails go out to whom (with their rendered content) and which
 * ticket is opened or updated. It reads no clock: event and wall times come in the input.
 */
import { createHash } from 'node:crypto';
import type { RoutingConfig, RuleSpec, TemplatesConfig, TierSpec } from '../config/types.ts';
import type { AccountRecord, ActionKind, Advisory, AdvisoryKind, Signal, TemplatedKind, Ticket } from '../domain/types.ts';
import { renderTemplate } from '../notify/render.ts';
import type { EpisodeTransition } from './episode.ts';
import { dueTimes, morePressing, priorityFor, queueFor } from './routing.ts';
import { templateView } from './view.ts';

export interface EpisodeHistory {
  /** advisory kinds already queued for this signal */
  sentKinds: ReadonlySet<AdvisoryKind>;
  /** everyone who got an email about this signal so far */
  recipients: readonly string[];
  /** the ticket already opened for this signal, if any */
  ticket?: Ticket;
  /** the account x rule had an episode open within the tier's cooldown before this one */
  inCooldown: boolean;
}

export interface DecideInput {
  transition: EpisodeTransition;
  /** the signal after the transition was applied */
  signal: Signal;
  account: AccountRecord;
  tier: TierSpec;
  rule: RuleSpec;
  routing: RoutingConfig;
  templates: TemplatesConfig;
  history: EpisodeHistory;
  /** event time of the point that caused the transition */
  eventMs: number;
  nowWallMs: number;
  /** link to the account page, for templates */
  dashboardUrl: string;
}

/** An advisory ready for the outbox (status fields are filled by the outbox). */
export type AdvisoryDraft = Omit<Advisory, 'status' | 'attempts' | 'nextAttemptAtWallMs'>;

export interface Decision {
  advisories: AdvisoryDraft[];
  /** a new ticket, or the existing one with a raised priority/severity */
  ticket?: Ticket;
  /** why something the policy would do was not done (no contact, cooldown, ...) */
  skipped: string[];
}

/** Short stable id from parts. */
export function stableId(prefix: string, ...parts: Array<string | number>): string {
  return `${prefix}-${createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 16)}`;
}

function recipientsFor(kind: TemplatedKind, account: AccountRecord): string[] {
  const emails = (cs: readonly { email: string }[]) => cs.map((c) => c.email);
  switch (kind) {
    case 'csm_alert':
      return account.csm ? [account.csm.email] : [];
    case 'preventive_advisory':
      return account.businessContacts.length > 0 ? emails(account.businessContacts) : emails(account.technicalContacts);
    case 'technical_advisory':
      return account.technicalContacts.length > 0 ? emails(account.technicalContacts) : emails(account.businessContacts);
    case 'resolution_note':
      return [];
  }
}

/** Decides what a transition of a signal triggers under its account's tier policy. */
export function decide(input: DecideInput): Decision {
  const { transition, signal, account, tier, rule, routing, templates, history } = input;
  const decision: Decision = { advisories: [], skipped: [] };
  const view = templateView({
    account,
    tier: tier.name,
    signal,
    rule,
    decidedAtMs: input.eventMs,
    dashboardUrl: input.dashboardUrl,
  });

  const draft = (kind: TemplatedKind, to: string[]): AdvisoryDraft => {
    const dedupKey = `${signal.id}:${kind}`;
    const rendered = renderTemplate(templates[kind], view as unknown as Record<string, unknown>);
    return {
      id: stableId('adv', dedupKey),
      dedupKey,
      signalId: signal.id,
      account: account.id,
      kind,
      severity: signal.severity,
      tier: tier.name,
      to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      decidedAtMs: input.eventMs,
      decidedAtWallMs: input.nowWallMs,
    };
  };

  if (transition === 'resolved') {
    if (!tier.policy.resolutionNote) return decision;
    if (history.recipients.length === 0) return decision;
    if (history.sentKinds.has('resolution_note')) return decision;
    decision.advisories.push(draft('resolution_note', [...new Set(history.recipients)]));
    return decision;
  }

  // opened or escalated: the actions of the current severity that were not done yet
  const actions: readonly ActionKind[] = tier.policy.actions[signal.severity];
  for (const action of actions) {
    if (action === 'ticket') continue;
    if (history.sentKinds.has(action)) continue;
    if (history.inCooldown && transition === 'opened') {
      decision.skipped.push(`${action}: account ${account.id} rule ${rule.name} is in its cooldown`);
      continue;
    }
    const to = recipientsFor(action, account);
    if (to.length === 0) {
      decision.skipped.push(`${action}: account ${account.id} has no recipient for it`);
      continue;
    }
    decision.advisories.push(draft(action, to));
  }

  if (actions.includes('ticket')) {
    const priority = priorityFor(routing, signal.severity, tier.name, account.attributes.businessCritical);
    if (history.ticket) {
      const t = history.ticket;
      const raised = morePressing(t.priority, priority);
      if (t.state !== 'resolved' && (raised !== t.priority || t.severity !== signal.severity)) {
        decision.ticket = { ...t, priority: raised, severity: signal.severity, title: ticketTitle(signal, account) };
      }
    } else {
      decision.ticket = {
        id: stableId('tkt', signal.id),
        signalId: signal.id,
        account: account.id,
        tier: tier.name,
        domain: rule.domain,
        queue: queueFor(routing, rule.domain),
        priority,
        severity: signal.severity,
        title: ticketTitle(signal, account),
        description: ticketDescription(signal, account, rule),
        state: 'open',
        createdAtMs: input.eventMs,
        createdAtWallMs: input.nowWallMs,
        ...dueTimes(tier, input.nowWallMs),
        escalationLevel: 0,
      };
    }
  }
  return decision;
}

function ticketTitle(signal: Signal, account: AccountRecord): string {
  return `[${signal.severity}] ${account.name}: ${signal.summary}`;
}

function ticketDescription(signal: Signal, account: AccountRecord, rule: RuleSpec): string {
  return [
    `Pre-emptive ticket opened by Forewarn for ${account.name} (${account.id}).`,
    `Rule: ${rule.name} (${rule.domain}); series: ${signal.metric}; component: ${rule.component}.`,
    `Onset: ${new Date(signal.onsetMs).toISOString()}; expected ${fmt(signal.expected)}, observed ${fmt(signal.observed)} (${signal.direction}).`,
    `Runbook: ${rule.runbookUrl}`,
  ].join('\n');
}

function fmt(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : String(x);
}
