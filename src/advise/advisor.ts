/**
 * The advise stage: feeds scored points of ruled series through the episode machine, and on each
 * transition records the signal, asks the pure policy what to do, and writes the outcome (signal,
 * outbox entries, ticket) to the state store in one transaction. Delivery is the outbox's job.
 * With an output sink, signal states and queued advisories are also written there (dashboards).
 */
import { trace } from '@opentelemetry/api';
import type { RuleSpec, RulesBundle, TierSpec } from '../config/types.ts';
import type { Clock } from '../domain/clock.ts';
import type { AccountRecord, AdvisoryKind, Signal } from '../domain/types.ts';
import { criticalScore } from '../detect/forecast.ts';
import { forecastWatchId, type ScoredPoint } from '../detect/scorer.ts';
import type { OutputSink } from '../store/output-sink.ts';
import type { StateStore } from '../store/state-store.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { initialEpisode, stepEpisode, type EpisodeState, type EpisodeTransition } from './episode.ts';
import { decide, stableId } from './policy.ts';
import { deriveTier } from './tier.ts';
import { formatIn } from './view.ts';

const tracer = trace.getTracer('forewarn');

export interface AdvisorOptions {
  rules: RulesBundle;
  state: StateStore;
  clock: Clock;
  metrics?: Metrics;
  /** base URL of the web page, for links in emails */
  publicUrl: string;
  /** called after new advisories were written to the outbox */
  onEnqueued?: () => void;
  /** where signal states (on each transition, and per scored point while open) and queued advisories are written */
  sink?: OutputSink;
  /** the account's health at event time `nowMs` (recorded on each signal transition, shown in emails) */
  healthOf?: (account: string, tier: string, nowMs: number) => { score: number; top: string };
}

/**
 * The rule of a forecast stream (`<rule>:forecast`): the rule's domain, texts and tier policy, its
 * own episode (so it never fights the anomaly episode), warning when the crossing is predicted
 * within the horizon, critical within `critical_within`.
 */
export function forecastRule(rule: RuleSpec): RuleSpec | undefined {
  if (!rule.limit) return undefined;
  return {
    ...rule,
    name: forecastWatchId(rule.name),
    severity: { warning: 0.5, critical: criticalScore(rule.limit.horizonMs, rule.limit.criticalWithinMs) },
    resolveBelow: 0.3,
  };
}

/** "... (quota_used_ratio forecast to reach 1 in ~2 days)" */
function forecastSummary(signal: Signal, rule: RuleSpec, tsMs: number): string {
  const at = signal.forecastCrossingMs;
  if (at === undefined || !rule.limit) return signal.summary;
  const title = rule.title;
  return `${title} (${rule.series} forecast to reach ${rule.limit.value} in ${formatIn(at - tsMs)})`;
}

/** What the advisor remembers per account x rule (checkpointed). */
interface RuleState {
  episode: EpisodeState;
  signalId?: string;
  lastResolvedMs?: number;
  /** wall time at which the point that moved the episode arrived (for point-to-email latency) */
  arrivalWallMs?: number;
}

export interface Advisor {
  /** handles one scored point of a ruled series; `arrivalWallMs` is when its request came in */
  onScored(p: ScoredPoint, arrivalWallMs: number): void;
  /** wall time the point behind an advisory's signal arrived, if known (for latency metrics) */
  arrivalOf(signalId: string): number | undefined;
  /** the tier of an account under the current rules */
  tierOf(account: AccountRecord): TierSpec;
  /** checkpoint of every episode state changed since the last call */
  dirtySnapshots(): Array<[string, Uint8Array]>;
}

/** The checkpoint key of one account x rule episode. */
export function episodeKey(account: string, rule: string): string {
  return `ep\u0000${account}\u0000${rule}`;
}

function restored(bytes: Uint8Array | undefined): RuleState | undefined {
  if (!bytes) return undefined;
  try {
    const rs = JSON.parse(new TextDecoder().decode(bytes)) as RuleState;
    return rs && typeof rs === 'object' && rs.episode ? rs : undefined;
  } catch {
    // unreadable checkpoint: the episode starts afresh
    return undefined;
  }
}

/** Creates the advise stage. */
export function createAdvisor(options: AdvisorOptions): Advisor {
  const { rules, state, clock, metrics } = options;
  const ruleByName = new Map<string, RuleSpec>(rules.rules.rules.map((r) => [r.name, r]));
  for (const r of rules.rules.rules) {
    const f = forecastRule(r);
    if (f) ruleByName.set(f.name, f);
  }
  // the latest forecast per account x rule with a limit, for the signals of that rule
  const forecasts = new Map<string, Map<string, { crossingMs: number; lowMs: number; highMs: number; limit: number }>>();
  const forecastOf = (account: string, rule: RuleSpec) => {
    const base = rule.name.endsWith(':forecast') ? rule.name.slice(0, -':forecast'.length) : rule.name;
    return forecasts.get(account)?.get(base);
  };
  /** the forecast and health fields of a signal at a transition */
  const annotate = (signal: Signal, rule: RuleSpec, tier: string, tsMs: number) => {
    const f = rule.limit ? forecastOf(signal.account, rule) : undefined;
    if (f && Number.isFinite(f.crossingMs)) {
      signal.forecastCrossingMs = f.crossingMs;
      signal.forecastLimit = f.limit;
      if (Number.isFinite(f.lowMs)) signal.forecastLowMs = f.lowMs;
      if (Number.isFinite(f.highMs)) signal.forecastHighMs = f.highMs;
      else delete signal.forecastHighMs;
    }
    const h = options.healthOf?.(signal.account, tier, tsMs);
    if (h) signal.health = h;
  };
  const tiersByName = new Map<string, TierSpec>(rules.tiers.tiers.map((t) => [t.name, t]));
  const lowestTier = rules.tiers.tiers[rules.tiers.tiers.length - 1]!;
  // account -> rule -> state: two map lookups per point, no key strings built on the hot path
  const states = new Map<string, Map<string, RuleState>>();
  // the lowest score that can move an episode out of 'normal', per rule
  const openAt = new Map<string, number>(rules.rules.rules.map((r) => [r.name, r.severity.info ?? r.severity.warning]));
  const dirty = new Set<string>();
  const arrivals = new Map<string, number>();
  const sink = options.sink?.enabled ? options.sink : undefined;
  // open signals by id, so the sink sees them on every point without a state-store read
  const liveSignals = new Map<string, Signal>();

  const tierOf = (account: AccountRecord): TierSpec => {
    if (account.unclassified && account.tierOverride === undefined) return lowestTier;
    const name = deriveTier(account.attributes, rules.tiers, account.tierOverride);
    return tiersByName.get(name) ?? lowestTier;
  };

  // a signal's ticket has the id stableId('tkt', signalId) (policy.ts): one keyed read, not a scan
  const ticketOf = (signalId: string) => state.getTicket(stableId('tkt', signalId));

  const historyOf = (signalId: string) => {
    const sentKinds = new Set<AdvisoryKind>();
    const recipients: string[] = [];
    for (const a of state.listAdvisories({ signalId })) {
      sentKinds.add(a.kind);
      if (a.kind !== 'resolution_note') recipients.push(...a.to);
    }
    const ticket = ticketOf(signalId);
    return ticket ? { sentKinds, recipients, ticket } : { sentKinds, recipients };
  };

  const apply = (p: ScoredPoint, rule: RuleSpec, rs: RuleState, transition: EpisodeTransition, arrivalWallMs: number) => {
    const span = tracer.startSpan('forewarn.signal.decide', {
      attributes: { 'forewarn.account': p.account, 'forewarn.rule': rule.name, 'forewarn.transition': transition },
    });
    try {
      const nowWall = clock.nowMs();
      const account = state.getAccount(p.account);
      if (!account) return; // accounts are ensured at ingest; a missing one means it was deleted meanwhile
      const tier = tierOf(account);
      let signal: Signal | undefined;
      if (transition === 'opened') {
        const id = stableId('sig', p.account, rule.name, rs.episode.onsetMs);
        signal = {
          id,
          account: p.account,
          rule: rule.name,
          // a forecast signal names its stream, so it is never mistaken for the rule's anomaly signal
          metric: p.forecast ? `${rule.series}:forecast` : rule.series,
          domain: rule.domain,
          severity: rs.episode.severity ?? 'warning',
          state: 'open',
          direction: p.score.direction,
          onsetMs: rs.episode.onsetMs,
          openedAtMs: p.tsMs,
          openedAtWallMs: nowWall,
          peakScore: rs.episode.peakScore,
          lastScore: p.score.score,
          expected: p.score.expected,
          observed: p.score.observed,
          tier: tier.name,
          runbookUrl: rule.runbookUrl,
          summary: `${rule.title} (${rule.series} ${p.score.direction === 'down' ? 'below' : 'above'} baseline)`,
        };
        annotate(signal, rule, tier.name, p.tsMs);
        if (p.forecast && rule.limit) signal.summary = forecastSummary(signal, rule, p.tsMs);
        rs.signalId = id;
        rs.arrivalWallMs = arrivalWallMs;
        arrivals.set(id, arrivalWallMs);
      } else {
        const prev = rs.signalId ? state.getSignal(rs.signalId) : undefined;
        if (!prev) return;
        signal = { ...prev, lastScore: p.score.score, peakScore: Math.max(prev.peakScore, rs.episode.peakScore || p.score.score) };
        if (transition === 'escalated') {
          signal.severity = rs.episode.severity ?? prev.severity;
          signal.escalatedAtMs = p.tsMs;
          signal.escalatedAtWallMs = nowWall;
          signal.expected = p.score.expected;
          signal.observed = p.score.observed;
          annotate(signal, rule, tier.name, p.tsMs);
          if (p.forecast && rule.limit) signal.summary = forecastSummary(signal, rule, p.tsMs);
          arrivals.set(signal.id, arrivalWallMs);
        } else {
          signal.state = 'resolved';
          signal.resolvedAtMs = p.tsMs;
          signal.resolvedAtWallMs = nowWall;
          arrivals.set(signal.id, arrivalWallMs);
        }
      }
      span.setAttribute('forewarn.signal', signal.id);
      span.setAttribute('forewarn.severity', signal.severity);
      span.setAttribute('forewarn.tier', tier.name);

      const history = historyOf(signal.id);
      // one ticket per account x rule incident: a forecast signal updates the open ticket of the
      // rule's anomaly signal (raising its priority if more pressing) instead of opening another
      const baseName = rule.name.endsWith(':forecast') ? rule.name.slice(0, -':forecast'.length) : undefined;
      if (baseName !== undefined && !history.ticket) {
        const baseSignalId = states.get(p.account)?.get(baseName)?.signalId;
        const baseTicket = baseSignalId ? ticketOf(baseSignalId) : undefined;
        if (baseTicket && baseTicket.state !== 'resolved') Object.assign(history, { ticket: baseTicket });
      }
      let inCooldown = transition === 'opened' && rs.lastResolvedMs !== undefined && p.tsMs - rs.lastResolvedMs < tier.policy.cooldownMs;
      // while the rule's anomaly signal is open its recipients already know: a forecast signal
      // opening at warning adds no email (its forecast still reaches the signal, ticket and
      // dashboards); a critical forecast (the limit is near) is news and is sent
      if (baseName !== undefined && transition === 'opened' && !inCooldown && signal.severity !== 'critical') {
        if (states.get(p.account)?.get(baseName)?.signalId !== undefined) inCooldown = true;
      }
      const decision = decide({
        transition,
        signal,
        account,
        tier,
        rule,
        routing: rules.routing,
        templates: rules.templates,
        history: { ...history, inCooldown },
        eventMs: p.tsMs,
        nowWallMs: nowWall,
        dashboardUrl: `${options.publicUrl}/accounts/${encodeURIComponent(account.id)}`,
      });
      let queued = 0;
      const final = signal;
      const written: typeof decision.advisories = [];
      state.transaction(() => {
        state.saveSignal(final);
        for (const d of decision.advisories) {
          if (state.enqueueAdvisory({ ...d, status: 'pending', attempts: 0, nextAttemptAtWallMs: nowWall })) {
            queued += 1;
            metrics?.advisoriesQueued.inc({ kind: d.kind });
            if (sink) written.push(d);
          }
        }
        if (decision.ticket) {
          const isNew = !history.ticket;
          state.saveTicket(decision.ticket);
          if (isNew) metrics?.ticketsOpened.inc({ priority: decision.ticket.priority, queue: decision.ticket.queue });
        }
      });
      span.setAttribute('forewarn.advisories', decision.advisories.map((a) => a.kind).join(','));
      if (decision.ticket)
        span.setAttribute('forewarn.ticket', `${decision.ticket.id} ${decision.ticket.priority} ${decision.ticket.queue}`);
      if (decision.skipped.length > 0) span.setAttribute('forewarn.skipped', decision.skipped.join('; '));
      if (metrics) {
        metrics.signalTransitions.inc({ transition, tier: tier.name, domain: rule.domain });
        if (transition === 'opened') metrics.signalsOpen.inc({ tier: tier.name, domain: rule.domain });
        if (transition === 'resolved') metrics.signalsOpen.dec({ tier: signal.tier, domain: rule.domain });
      }
      if (sink) {
        sink.signal(final, p.tsMs, p.score.score);
        for (const d of written)
          sink.advisory({ account: d.account, kind: d.kind, tier: d.tier, severity: d.severity, decidedAtMs: d.decidedAtMs });
        if (transition === 'resolved') liveSignals.delete(final.id);
        else liveSignals.set(final.id, final);
      }
      if (transition === 'resolved') {
        rs.lastResolvedMs = p.tsMs;
        delete rs.signalId;
      }
      if (queued > 0) options.onEnqueued?.();
    } finally {
      span.end();
    }
  };

  return {
    onScored(p, arrivalWallMs) {
      const rule = ruleByName.get(p.watch.id);
      if (!rule) return;
      if (p.forecast && rule.limit) {
        // remembered (not checkpointed: the next point brings a fresh one) for this rule's signals
        let byRule = forecasts.get(p.account);
        if (!byRule) forecasts.set(p.account, (byRule = new Map()));
        const base = p.watch.forecastOf?.id ?? rule.name;
        // only a raised forecast (settled, within the horizon) is worth telling anyone
        if (p.forecast.score > 0 && Number.isFinite(p.forecast.crossingMs)) {
          byRule.set(base, {
            crossingMs: p.forecast.crossingMs,
            lowMs: p.forecast.lowMs,
            highMs: p.forecast.highMs,
            limit: rule.limit.value,
          });
        } else byRule.delete(base);
      }
      let byRule = states.get(p.account);
      if (!byRule) states.set(p.account, (byRule = new Map()));
      let rs = byRule.get(rule.name);
      if (!rs) {
        rs = restored(state.loadCheckpoint(episodeKey(p.account, rule.name))) ?? { episode: initialEpisode() };
        byRule.set(rule.name, rs);
      }
      // the common case: a normal series stays normal, nothing to record
      if (rs.episode.phase === 'normal' && p.score.score < openAt.get(rule.name)!) return;
      const prevPhase = rs.episode.phase;
      const step = stepEpisode(rs.episode, p.score.score, p.tsMs, rule);
      if (step.state.phase !== 'normal' || prevPhase !== 'normal') dirty.add(episodeKey(p.account, rule.name));
      if (step.transition === 'resolved') {
        // keep the closing episode's numbers for the record before the state resets
        rs.episode = { ...rs.episode, peakScore: Math.max(rs.episode.peakScore, p.score.score) };
        apply(p, rule, rs, 'resolved', arrivalWallMs);
        rs.episode = step.state;
        return;
      }
      rs.episode = step.state;
      if (step.transition) apply(p, rule, rs, step.transition, arrivalWallMs);
      else if (sink && rs.signalId !== undefined) {
        // an open signal stays visible on dashboards: its state at every point of its series
        let live = liveSignals.get(rs.signalId);
        if (!live) {
          live = state.getSignal(rs.signalId);
          if (live) liveSignals.set(live.id, live);
        }
        if (live) sink.signal(live, p.tsMs, p.score.score);
      }
    },
    arrivalOf(signalId) {
      return arrivals.get(signalId);
    },
    tierOf,
    dirtySnapshots() {
      const out: Array<[string, Uint8Array]> = [];
      for (const key of dirty) {
        const [, account, rule] = key.split('\u0000');
        const rs = states.get(account!)?.get(rule!);
        if (rs) out.push([key, new TextEncoder().encode(JSON.stringify(rs))]);
      }
      dirty.clear();
      return out;
    },
  };
}
