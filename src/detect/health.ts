/**
 * Account health: folds the latest anomaly score of each watched series of one account into one
 * explainable number from 0 (on fire) to 100 (healthy), plus a short sentence per top
 * contributor ("errors/requests 4.1x baseline", "api_latency_ms +35% over baseline"). Pure.
 *
 * Formula (rank-discounted noisy-OR): with b_i = weight_i x score_i, sorted worst first,
 *
 *   health = 100 x (1 - b_(0)) x (1 - b_(1) / 2) x (1 - b_(2) / 4) x ...
 *
 * - the worst series counts fully, so health <= 100 x (1 - worst): one series at score 0.8 caps
 *   the account at 20, however many healthy series it also has;
 * - a second and third problem still lower the health (two problems are worse than one), but
 *   each further one counts half as much as the one before ({@link RANK_DISCOUNT}), so an
 *   account with 40 metrics is not punished for having many, and noise does not add up;
 * - it is monotone: raising any score never raises the health (each factor falls, and where
 *   two series swap rank the value is continuous);
 * - normal points score exactly 0 (the detectors' floors), so healthy series cost nothing.
 */
import type { Direction } from '../domain/types.ts';

/** Each further (less bad) series counts this fraction of the one before it. */
export const RANK_DISCOUNT = 0.5;
/** Contributors listed by default. */
export const DEFAULT_MAX_CONTRIBUTORS = 5;
/** A ratio of observed to expected at or above this is written "4.1x baseline", below as a percentage. */
export const RATIO_TEXT_THRESHOLD = 2;

/** The largest magnitude a JavaScript Date can hold, in ms. */
const MAX_DATE_MS = 8.64e15;

/** The latest state of one watched series. */
export interface HealthInput {
  /** the series name: a metric or a ratio `a/b` */
  series: string;
  /** latest anomaly score in [0, 1] (NaN counts as 0; out-of-range values are clamped) */
  score: number;
  direction: Direction;
  /** importance in [0, 1] (default 1; clamped; NaN counts as 0) */
  weight?: number;
  expected: number;
  observed: number;
  /** event time the anomaly started, if known */
  sinceMs?: number;
}

/** One series that lowers the health, with a sentence saying why. */
export interface HealthContributor {
  series: string;
  /** the series' score, clamped to [0, 1] */
  score: number;
  /** the weight used, in [0, 1] */
  weight: number;
  direction: Direction;
  /** e.g. "api_latency_ms +35% over baseline for 2h 15m" */
  text: string;
}

/** The health of one account. */
export interface HealthResult {
  /** 0..100, 100 = healthy (not rounded; round for display) */
  score: number;
  /** series with a non-zero weighted score, worst first (ties by name), at most `maxContributors` */
  contributors: HealthContributor[];
}

/** Options of {@link computeHealth}. */
export interface HealthOptions {
  /** how many contributors to list (default 5); all series still count in the score */
  maxContributors?: number;
  /** the current event time; with it a contributor's text says "for 2h 15m" instead of "since ..." */
  nowMs?: number;
}

function clamp01(x: number): number {
  if (!(x > 0)) return 0; // NaN, negative, -Infinity
  return x < 1 ? x : 1;
}

/**
 * Combines the per-series latest anomaly scores of one account into a 0..100 health score and
 * its top contributors. See the module comment for the formula.
 */
export function computeHealth(series: readonly HealthInput[], options: HealthOptions = {}): HealthResult {
  const maxContributors = options.maxContributors ?? DEFAULT_MAX_CONTRIBUTORS;
  const ranked = series
    .map((s) => {
      const score = clamp01(s.score);
      const weight = s.weight === undefined ? 1 : clamp01(s.weight);
      return { input: s, score, weight, bad: score * weight };
    })
    .sort((a, b) => b.bad - a.bad || (a.input.series < b.input.series ? -1 : a.input.series > b.input.series ? 1 : 0));

  let health = 1;
  let discount = 1;
  for (const r of ranked) {
    if (r.bad <= 0) break;
    health *= 1 - discount * r.bad;
    discount *= RANK_DISCOUNT;
  }

  const contributors: HealthContributor[] = [];
  for (const r of ranked) {
    if (r.bad <= 0 || contributors.length >= maxContributors) break;
    contributors.push({
      series: r.input.series,
      score: r.score,
      weight: r.weight,
      direction: r.input.direction,
      text: describeContributor(r.input, r.score, options.nowMs),
    });
  }
  return { score: 100 * health, contributors };
}

/** a number for people: 3 significant digits, integers from 100 up */
function formatNumber(x: number): string {
  if (Math.abs(x) >= 100) return String(Math.round(x));
  return String(Number(x.toPrecision(3)));
}

/** "45m", "2h 15m", "3d 4h", "<1m" */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return '<1m';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return mins > 0 ? `${hours}h ${mins}m` : `${hours}h`;
  return `${mins}m`;
}

/** the sentence for one contributor; exported for the advisory texts */
export function describeContributor(s: HealthInput, score: number, nowMs?: number): string {
  const { series, expected, observed } = s;
  let what: string;
  if (!Number.isFinite(expected) || !Number.isFinite(observed)) {
    what = `${series} anomalous (score ${score.toFixed(2)})`;
  } else if (expected > 0 && observed >= 0) {
    const ratio = observed / expected;
    const percent = Math.round((ratio - 1) * 100);
    if (ratio >= RATIO_TEXT_THRESHOLD) what = `${series} ${ratio < 10 ? ratio.toFixed(1) : String(Math.round(ratio))}x baseline`;
    else if (percent > 0) what = `${series} +${percent}% over baseline`;
    else if (percent < 0) what = `${series} ${-percent}% below baseline`;
    else what = `${series} near baseline ${formatNumber(expected)} (score ${score.toFixed(2)})`;
  } else {
    // zero or negative baselines have no meaningful ratio
    what = `${series} ${formatNumber(observed)} vs baseline ${formatNumber(expected)}`;
  }
  const since = s.sinceMs;
  // beyond +-8.64e15 ms a Date is invalid (toISOString would throw)
  if (since === undefined || !Number.isFinite(since) || Math.abs(since) > MAX_DATE_MS) return what;
  if (nowMs !== undefined && Number.isFinite(nowMs) && nowMs >= since) return `${what} for ${formatDuration(nowMs - since)}`;
  return `${what} since ${new Date(since).toISOString().slice(0, 16)}Z`;
}
