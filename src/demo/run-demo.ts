/**
 * `forewarn demo` / `npm run demo`: generates the demo fleet, registers its accounts through the
 * API, plays the telemetry through the real pipeline over HTTP (`POST /api/v2/write`) at full
 * speed, in event time, then prints what Forewarn caught: incidents vs signals, lead time before
 * each incident became customer-visible, advisories per tier, tickets, false alarms.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createForewarn } from '../app.ts';
import { loadRules } from '../config/load-rules.ts';
import { loadServerConfig } from '../config/server-config.ts';
import type { Advisory, Signal, Ticket } from '../domain/types.ts';
import { INCIDENT_SERIES, accountBody, generateFleet, type Fleet, type Incident } from './fleet.ts';
import { table } from './table.ts';

export interface DemoOptions {
  accounts: number;
  days: number;
  seed: number;
  dataDir: string;
  rulesDir: string;
  /** print progress and the report (default true) */
  print?: boolean;
  /** end of the generated history (default: now) */
  endMs?: number;
}

export interface IncidentOutcome {
  incident: Incident;
  signal?: Signal;
  /** event time of the first email or ticket about the incident */
  actedAtMs?: number;
  /** visible - first action, in ms; positive = warned before the customer noticed */
  leadMs?: number;
  advisories: Advisory[];
  ticket?: Ticket;
}

export interface DemoReport {
  fleet: Fleet;
  outcomes: IncidentOutcome[];
  falseAlarms: Signal[];
  signals: Signal[];
  advisories: Advisory[];
  tickets: Ticket[];
  tierOf: Map<string, string>;
  points: number;
  seconds: number;
  dataDir: string;
  emlDir: string;
}

const HOUR = 3_600_000;

function progress(done: number, total: number, started: number, points: number): void {
  const width = 30;
  const f = total === 0 ? 1 : done / total;
  const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
  const secs = (performance.now() - started) / 1000;
  const rate = secs > 0 ? Math.round(points / secs) : 0;
  process.stderr.write(
    `${process.stderr.isTTY ? '\r' : '\n'}  replaying [${bar}] ${(f * 100).toFixed(0).padStart(3)}%  ${points.toLocaleString('en-US')} points  ${rate.toLocaleString('en-US')} points/s `,
  );
}

/** Runs the demo and returns the report (also printed unless `print` is false). */
export async function runDemoReport(options: DemoOptions): Promise<DemoReport> {
  const print = options.print ?? true;
  const log = (s: string) => print && process.stdout.write(`${s}\n`);
  fs.rmSync(options.dataDir, { recursive: true, force: true });
  fs.mkdirSync(options.dataDir, { recursive: true });
  const rules = loadRules(options.rulesDir);
  // the demo is a self-contained run on embedded defaults: only its own folders, no auth, loopback
  const config = {
    ...loadServerConfig({
      FOREWARN_DATA_DIR: options.dataDir,
      FOREWARN_RULES_DIR: options.rulesDir,
      PORT: '0',
      FOREWARN_SQLITE_SYNC: 'normal',
    }),
    // history is replayed as fast as it can go: retention is measured against the data, not today
    retentionMs: 3650 * 24 * HOUR,
  };
  const fw = await createForewarn({ config, rules });
  fw.start();
  const server = serve({ fetch: fw.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  try {
    const endMs = options.endMs ?? Date.now() - 5 * 60_000;
    const fleet = generateFleet({ accounts: options.accounts, days: options.days, seed: options.seed, endMs });
    log(
      `Forewarn demo: ${fleet.accounts.length} accounts, ${options.days} days at 5-minute resolution, ${fleet.incidents.length} incidents injected`,
    );
    log(`  data folder ${path.resolve(options.dataDir)}; rules ${path.resolve(options.rulesDir)}; API at ${base}`);

    for (const a of fleet.accounts) {
      const res = await fetch(`${base}/api/accounts/${a.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(accountBody(a)),
      });
      if (!res.ok) throw new Error(`registering account ${a.id} failed: ${res.status} ${await res.text()}`);
    }

    const started = performance.now();
    let points = 0;
    const ticksPerRequest = 12; // one hour of the whole fleet per request
    for (let tick = 0; tick < fleet.ticks; tick += ticksPerRequest) {
      let body = '';
      const last = Math.min(fleet.ticks, tick + ticksPerRequest);
      for (let t = tick; t < last; t++) body += fleet.linesAt(t);
      const res = await fetch(`${base}/api/v2/write?precision=s`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      if (res.status !== 204) throw new Error(`write at tick ${tick} failed: ${res.status} ${await res.text()}`);
      points += (last - tick) * fleet.accounts.length * 6;
      // a live bar on a terminal; a line per quarter when the output goes to a file or CI log
      const every = process.stderr.isTTY ? 8 : Math.max(1, Math.ceil(fleet.ticks / ticksPerRequest / 4));
      if (print && (tick / ticksPerRequest) % every === 0) progress(last, fleet.ticks, started, points);
    }
    if (print) {
      progress(fleet.ticks, fleet.ticks, started, points);
      process.stderr.write('\n');
    }
    const seconds = (performance.now() - started) / 1000;
    // let the outbox hand every email over before reading the results
    for (let i = 0; i < 100 && fw.state.outboxDepth() > 0; i++) await fw.outbox.drainOnce();
    fw.checkpoint();

    const signals = fw.state.listSignals({ limit: 100_000 });
    const advisories = fw.state.listAdvisories({ limit: 100_000 });
    const tickets = fw.state.listTickets({ limit: 100_000 });
    const tierOf = new Map(fw.state.listAccounts().map((a) => [a.id, fw.advisor.tierOf(a).name]));
    const report = buildReport(fleet, signals, advisories, tickets);
    const full: DemoReport = {
      ...report,
      fleet,
      signals,
      advisories,
      tickets,
      tierOf,
      points,
      seconds,
      dataDir: path.resolve(options.dataDir),
      emlDir: path.resolve(options.dataDir, 'outbox'),
    };
    if (print) printReport(full);
    return full;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fw.close();
  }
}

/** Matches signals to incidents: the first signal on the incident's series and account around it. */
export function buildReport(
  fleet: Fleet,
  signals: Signal[],
  advisories: Advisory[],
  tickets: Ticket[],
): { outcomes: IncidentOutcome[]; falseAlarms: Signal[] } {
  // a signal opened from an hour before the onset to six hours after the end is about the incident
  const inWindow = (s: Signal, inc: Incident) =>
    s.account === inc.account && s.openedAtMs >= inc.onsetMs - HOUR && s.openedAtMs <= inc.endMs + 6 * HOUR;
  const matched = new Set<string>();
  const outcomes: IncidentOutcome[] = fleet.incidents.map((inc) => {
    const series = INCIDENT_SERIES[inc.type];
    const candidates = signals.filter((s) => s.metric === series && inWindow(s, inc)).sort((a, b) => a.openedAtMs - b.openedAtMs);
    const signal = candidates[0];
    const outcome: IncidentOutcome = { incident: inc, advisories: [] };
    if (signal) {
      outcome.signal = signal;
      outcome.advisories = advisories.filter((a) => a.signalId === signal.id);
      const t = tickets.find((x) => x.signalId === signal.id);
      if (t) outcome.ticket = t;
      // lead time counts from the first action someone could act on (an email or a ticket), in
      // event time; a signal that only opened at a severity with no action warned nobody
      const actions = [
        ...outcome.advisories.filter((a) => a.kind !== 'resolution_note').map((a) => a.decidedAtMs),
        ...(t ? [t.createdAtMs] : []),
      ];
      if (actions.length > 0) {
        outcome.actedAtMs = Math.min(...actions);
        outcome.leadMs = inc.visibleMs - outcome.actedAtMs;
      }
    }
    return outcome;
  });
  // any signal inside an incident's window on its account is explained by the incident
  for (const inc of fleet.incidents) {
    for (const s of signals) {
      if (inWindow(s, inc)) matched.add(s.id);
    }
  }
  return { outcomes, falseAlarms: signals.filter((s) => !matched.has(s.id)) };
}

function fmtLead(ms: number | undefined): string {
  if (ms === undefined) return 'missed';
  const sign = ms < 0 ? '-' : '+';
  const a = Math.abs(ms);
  if (a >= 24 * HOUR) return `${sign}${(a / (24 * HOUR)).toFixed(1)} d`;
  if (a >= HOUR) return `${sign}${(a / HOUR).toFixed(1)} h`;
  return `${sign}${Math.round(a / 60_000)} min`;
}

const KIND_SHORT: Record<string, string> = {
  csm_alert: 'csm',
  preventive_advisory: 'preventive',
  technical_advisory: 'technical',
  resolution_note: 'resolved-note',
  ticket_escalation: 'escalation',
};

function printReport(r: DemoReport): void {
  const out = (s = '') => process.stdout.write(`${s}\n`);
  const iso = (ms: number) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');
  out();
  out(
    `Played ${r.points.toLocaleString('en-US')} points in ${r.seconds.toFixed(1)} s (${Math.round(r.points / r.seconds).toLocaleString('en-US')} points/s through POST /api/v2/write, stored, scored and advised).`,
  );
  out();
  out('Incidents injected vs signals raised (event times UTC; acted = first email or ticket; lead = customer-visible time minus acted):');
  out(
    table(
      ['incident', 'account', 'tier', 'onset', 'visible', 'signal', 'acted', 'sev', 'lead', 'emails', 'ticket'],
      r.outcomes.map((o) => [
        o.incident.type,
        o.incident.account,
        r.tierOf.get(o.incident.account) ?? o.incident.tier,
        iso(o.incident.onsetMs),
        iso(o.incident.visibleMs),
        o.signal ? iso(o.signal.openedAtMs) : '-',
        o.actedAtMs !== undefined ? iso(o.actedAtMs) : '-',
        o.signal?.severity ?? '-',
        fmtLead(o.leadMs),
        o.advisories.map((a) => KIND_SHORT[a.kind] ?? a.kind).join(',') || '-',
        o.ticket ? `${o.ticket.priority} ${o.ticket.queue}` : '-',
      ]),
    ),
  );
  const caught = r.outcomes.filter((o) => o.leadMs !== undefined).length;
  const early = r.outcomes.filter((o) => (o.leadMs ?? -1) > 0).length;
  const leads = r.outcomes.flatMap((o) => (o.leadMs !== undefined ? [o.leadMs] : [])).sort((a, b) => a - b);
  const median = leads.length > 0 ? leads[Math.floor(leads.length / 2)] : undefined;
  out();
  out(
    `Acted on ${caught}/${r.outcomes.length} incidents (${r.outcomes.filter((o) => o.signal).length} raised a signal), ${early} before the customer could notice; median lead time ${fmtLead(median)}.`,
  );
  const accountsWithoutIncident = r.fleet.accounts.length - new Set(r.fleet.incidents.map((i) => i.account)).size;
  out(
    `False alarms: ${r.falseAlarms.length} signal(s) outside every incident window (${accountsWithoutIncident} accounts had no incident; ${r.signals.length} signals in all).`,
  );
  if (r.falseAlarms.length > 0) {
    const byRule = new Map<string, number>();
    for (const s of r.falseAlarms) byRule.set(`${s.rule}/${s.severity}`, (byRule.get(`${s.rule}/${s.severity}`) ?? 0) + 1);
    out(`  by rule/severity: ${[...byRule].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  out();
  out('Per tier: accounts, signals and emails that went out:');
  const tiers = [...new Set([...r.tierOf.values()])];
  const order = ['strategic', 'enterprise', 'growth', 'self-serve'];
  tiers.sort((a, b) => ((order.indexOf(a) + 99) % 99) - ((order.indexOf(b) + 99) % 99));
  const kinds = ['csm_alert', 'preventive_advisory', 'technical_advisory', 'resolution_note', 'ticket_escalation'];
  out(
    table(
      ['tier', 'accounts', 'signals', ...kinds.map((k) => KIND_SHORT[k]!), 'tickets', 'sent', 'pending'],
      tiers.map((tier) => {
        const acc = [...r.tierOf].filter(([, t]) => t === tier).length;
        const adv = r.advisories.filter((a) => a.tier === tier);
        return [
          tier,
          String(acc),
          String(r.signals.filter((s) => s.tier === tier).length),
          ...kinds.map((k) => String(adv.filter((a) => a.kind === k).length)),
          String(r.tickets.filter((t) => t.tier === tier).length),
          String(adv.filter((a) => a.status === 'sent').length),
          String(adv.filter((a) => a.status !== 'sent').length),
        ];
      }),
    ),
  );
  out();
  out(`Emails (.eml files, open with any mail client): ${r.emlDir}`);
  out(`Database (SQLite: state.db for accounts/signals/outbox/tickets, timeseries.db for telemetry): ${r.dataDir}`);
  out(
    `Browse the same data through the API: FOREWARN_DATA_DIR=${r.dataDir} npm start, then GET /api/signals, /api/advisories, /api/tickets.`,
  );
}

/** CLI entry: runs the demo and returns the exit code. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const r = await runDemoReport(options);
  return r.outcomes.some((o) => o.signal) ? 0 : 1;
}
