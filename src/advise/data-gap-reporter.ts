/**
 * Reports data gaps to operators, never to customers: a gap (an account gone silent in event time,
 * or the whole fleet silent in wall time) becomes a `data_gap` signal in the data domain, a ticket
 * in the data queue and a `data_gap` email to the data queue's address. No tier policy runs, so no
 * advisory ("your usage fell") can reach a customer because of missing telemetry. When data comes
 * back, the signal and its ticket are resolved.
 */
import { preformattedHtml } from '../notify/render.ts';
import type { RoutingConfig, TierSpec } from '../config/types.ts';
import type { Clock } from '../domain/clock.ts';
import type { Signal, Ticket } from '../domain/types.ts';
import type { GapTransition } from '../detect/data-gap.ts';
import type { StateStore } from '../store/state-store.ts';
import { stableId } from './policy.ts';
import { dueTimes, priorityFor, queueFor } from './routing.ts';

/** The rule name of data-gap signals. */
export const DATA_GAP_RULE = 'data_gap';
/** The account id used for a whole-fleet silence. */
export const FLEET_ACCOUNT = '(fleet)';

/** Options of {@link createDataGapReporter}. */
export interface DataGapReporterOptions {
  state: StateStore;
  routing: RoutingConfig;
  clock: Clock;
  /** the tier of an account (the fleet gets the highest tier: everyone is affected) */
  tierOf: (account: string) => TierSpec;
  /** called after operator emails were queued */
  onEnqueued?: () => void;
}

/** Turns gap transitions into operator signals, tickets and emails. */
export interface DataGapReporter {
  /** an account's gap opened or closed (event time) */
  report(t: GapTransition): void;
  /** the whole fleet went silent (`silent` true) or data arrives again (false); wall time */
  fleet(silent: boolean, lastArrivalWallMs: number): void;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** Creates the reporter. */
export function createDataGapReporter(options: DataGapReporterOptions): DataGapReporter {
  const { state, routing, clock } = options;
  const open = new Map<string, string>(); // account -> open signal id

  const openGap = (account: string, sinceMs: number, atMs: number, what: string) => {
    if (open.has(account)) return;
    const nowWall = clock.nowMs();
    const tier = options.tierOf(account);
    const id = stableId('sig', account, DATA_GAP_RULE, sinceMs);
    const signal: Signal = {
      id,
      account,
      rule: DATA_GAP_RULE,
      metric: '*',
      domain: 'data',
      severity: 'warning',
      state: 'open',
      direction: 'none',
      onsetMs: sinceMs,
      openedAtMs: atMs,
      openedAtWallMs: nowWall,
      peakScore: 1,
      lastScore: 1,
      expected: NaN,
      observed: NaN,
      tier: tier.name,
      summary: what,
    };
    const queue = routing.queues.data;
    const ticket: Ticket = {
      id: stableId('tkt', id),
      signalId: id,
      account,
      tier: tier.name,
      domain: 'data',
      queue: queueFor(routing, 'data'),
      priority: priorityFor(routing, 'warning', tier.name, false),
      severity: 'warning',
      title: `[data gap] ${what}`,
      description: `${what}\nThis is missing telemetry, not a change in the customer's usage: no customer was told anything. Check the account's collector, the pull sources (GET /api/sources) and the ingest endpoint.`,
      state: 'open',
      createdAtMs: atMs,
      createdAtWallMs: nowWall,
      ...dueTimes(tier, nowWall),
      escalationLevel: 0,
    };
    let queued = false;
    state.transaction(() => {
      state.saveSignal(signal);
      state.saveTicket(ticket);
      if (queue.email) {
        const dedupKey = `${id}:data_gap`;
        const text = `${what}\n\nTicket ${ticket.id} (${ticket.priority}) is open in queue ${ticket.queue}.\n${ticket.description}\n\nSignal ${id}.`;
        queued = state.enqueueAdvisory({
          id: stableId('adv', dedupKey),
          dedupKey,
          signalId: id,
          account,
          kind: 'data_gap',
          severity: 'warning',
          tier: tier.name,
          to: [queue.email],
          subject: `[Forewarn] data gap: ${what}`,
          text,
          html: preformattedHtml(text),
          decidedAtMs: atMs,
          decidedAtWallMs: nowWall,
          status: 'pending',
          attempts: 0,
          nextAttemptAtWallMs: nowWall,
        });
      }
    });
    open.set(account, id);
    if (queued) options.onEnqueued?.();
  };

  const closeGap = (account: string, atMs: number) => {
    const id = open.get(account);
    if (!id) return;
    open.delete(account);
    const nowWall = clock.nowMs();
    const prev = state.getSignal(id);
    state.transaction(() => {
      if (prev) state.saveSignal({ ...prev, state: 'resolved', resolvedAtMs: atMs, resolvedAtWallMs: nowWall });
      const t = state.getTicket(stableId('tkt', id));
      if (t && t.state !== 'resolved') state.saveTicket({ ...t, state: 'resolved', resolvedAtWallMs: nowWall });
    });
  };

  return {
    report(t) {
      if (t.transition === 'opened') {
        const minutes = Math.round(t.usualIntervalMs / 60_000);
        openGap(
          t.account,
          t.lastSeenMs,
          t.atMs,
          `no telemetry from account ${t.account} since ${iso(t.lastSeenMs)} (usually every ${minutes < 1 ? '<1' : minutes} min; other accounts report up to ${iso(t.atMs)})`,
        );
      } else closeGap(t.account, t.atMs);
    },
    fleet(silent, lastArrivalWallMs) {
      if (silent)
        openGap(
          FLEET_ACCOUNT,
          lastArrivalWallMs,
          lastArrivalWallMs,
          `no telemetry from any account since ${iso(lastArrivalWallMs)} (wall clock): the whole fleet is silent`,
        );
      else closeGap(FLEET_ACCOUNT, clock.nowMs());
    },
  };
}
