/**
 * The account health as shown to people: the latest state of every series of an account (anomaly
 * scores and limit forecasts, from the scorer) weighted by the rules, folded into 0..100 by
 * `computeHealth`, with one sentence per top contributor ("api_errors/api_requests 4.1x baseline
 * since 09:20 UTC", "quota_used_ratio reaches 1 in ~2 days (2024-05-08 14:00 UTC)"). Pure.
 *
 * Weights: a rule's `weight` (default 1), overridden per tier by its `tier_weights`; the forecast
 * stream of a rule (`<rule>:forecast`) has the rule's weight; series no rule watches count
 * {@link UNRULED_WEIGHT}, so a metric nobody wrote a rule for can lower the health but never as
 * much as one the operator said matters.
 */
import type { RuleSpec } from '../config/types.ts';
import { computeHealth, describeContributor, type HealthInput, type HealthResult } from './health.ts';
import type { SeriesHealth } from './scorer.ts';

/** Weight of series that no rule watches (default watches `metric:<name>`). */
export const UNRULED_WEIGHT = 0.5;
/** Contributors in the one-line summary of advisories. */
export const TOP_LINE_CONTRIBUTORS = 3;

/** Health weights by watch id and tier. */
export interface HealthWeights {
  /** the weight in [0, 1] of a watch (rule name, `<rule>:forecast`, `metric:<m>`) for an account of `tier` */
  weightOf(watchId: string, tier: string): number;
}

/** The weights of the rules. */
export function createHealthWeights(rules: readonly RuleSpec[]): HealthWeights {
  const byRule = new Map<string, RuleSpec>(rules.map((r) => [r.name, r]));
  return {
    weightOf(watchId, tier) {
      const suffix = watchId.endsWith(':forecast') ? watchId.length - ':forecast'.length : -1;
      const rule = byRule.get(suffix >= 0 ? watchId.slice(0, suffix) : watchId);
      if (!rule) return UNRULED_WEIGHT;
      return rule.tierWeights?.[tier] ?? rule.weight ?? 1;
    },
  };
}

/** `09:20 UTC` on the day of `nowMs`, else `May 3 09:20 UTC` */
export function formatSince(sinceMs: number, nowMs: number): string {
  const d = new Date(sinceMs).toISOString();
  const hm = d.slice(11, 16);
  if (Number.isFinite(nowMs) && d.slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10)) return `${hm} UTC`;
  const month = new Date(sinceMs).toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${new Date(sinceMs).getUTCDate()} ${hm} UTC`;
}

/** `~5 hours`, `~3 days` */
function inWords(ms: number): string {
  if (!(ms > 0)) return 'now';
  const h = ms / 3_600_000;
  if (h < 1) return 'within the hour';
  if (h < 36) return `in ~${Math.round(h)} hour${Math.round(h) === 1 ? '' : 's'}`;
  return `in ~${Math.round(h / 24)} days`;
}

/** The sentence of one series for people. */
function sentence(s: SeriesHealth, nowMs: number): string {
  const f = s.forecast;
  if (f && Number.isFinite(f.crossingMs)) {
    const when =
      f.crossingMs <= nowMs
        ? 'has reached'
        : `reaches ${String(f.limit)} ${inWords(f.crossingMs - nowMs)} (${new Date(f.crossingMs).toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
    return f.crossingMs <= nowMs ? `${s.series} ${when} its limit ${String(f.limit)}` : `${s.series} ${when}`;
  }
  const input: HealthInput = { series: s.series, score: s.score, direction: s.direction, expected: s.expected, observed: s.observed };
  const what = describeContributor(input, Math.min(1, Math.max(0, s.score || 0)));
  return s.anomalousSinceMs !== undefined && Number.isFinite(s.anomalousSinceMs) && Math.abs(s.anomalousSinceMs) < 8.64e15
    ? `${what} since ${formatSince(s.anomalousSinceMs, nowMs)}`
    : what;
}

/** The health of one account of `tier` at event time `nowMs`, with the contributors' sentences. */
export function accountHealth(series: readonly SeriesHealth[], weights: HealthWeights, tier: string, nowMs: number): HealthResult {
  const inputs: HealthInput[] = series.map((s) => ({
    series: s.watch?.endsWith(':forecast') ? `${s.series} (forecast)` : s.series,
    score: s.score,
    direction: s.direction,
    weight: weights.weightOf(s.watch ?? s.series, tier),
    expected: s.expected,
    observed: s.observed,
  }));
  const result = computeHealth(inputs);
  // replace computeHealth's texts with ones that name the forecast and the onset in UTC
  const bySeries = new Map(series.map((s, i) => [inputs[i]!.series, s]));
  for (const c of result.contributors) {
    const s = bySeries.get(c.series);
    if (s) c.text = sentence(s, nowMs);
  }
  return result;
}

/** One line for emails: the top contributors, `; `-separated, or that nothing stands out. */
export function healthTopLine(result: HealthResult, max = TOP_LINE_CONTRIBUTORS): string {
  const top = result.contributors.slice(0, max).map((c) => c.text);
  return top.length > 0 ? top.join('; ') : 'no series is unusual';
}
