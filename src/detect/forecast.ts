/**
 * Limit forecasting: predicts when a series will cross a limit declared in the rules (a quota at
 * 100%, a latency SLO) so an advisory can say "limit reached in ~2 days" before it happens. Pure
 * and streaming: one small state per series, fed in event time, no look-back buffer.
 *
 * Memory: as the combined detector (snapshot.ts), a forecaster is one small object and one plain
 * array of 124 doubles (STATE_DOUBLES); the algorithm is a model object built once per
 * {@link forecasterFactory} (the scorer makes one per limit) whose methods take the state, and
 * its scratch arrays are shared by the module. `stateBytes` says 1,080 bytes of heap (1,079-1,080
 * measured with --expose-gc on Node 20; a {@link createForecaster} of its own adds its model, 72
 * more); snapshots are 996 bytes. (Built from closures and Float64Arrays, as before, it took
 * ~6.5 KB: under tsx every closure carries a ~256-byte property array.)
 *
 * Model, in two parts:
 * - season: an exponentially weighted least-squares fit of level + slope + {@link HARMONICS} daily
 *   harmonics with a long half-life ({@link SEASON_HALF_LIFE_MS}); only its harmonics are used,
 *   to take the daily pattern out of the series (fitted jointly with a trend, so a climb does not
 *   leak into the pattern);
 * - trend: exponentially weighted linear regressions of the seasonally adjusted series at several
 *   half-lives ({@link TREND_HALF_LIVES_MS}, 3 h to 2 days). A long window is precise but lags a
 *   trend that has just started; a short one follows it but is noisy. The longest window whose
 *   slope agrees with every shorter one (within {@link AGREEMENT_SE} of the shorter one's standard
 *   error - Lepski's rule) is used: on a steady trend that is the longest, right after a bend the
 *   short ones.
 * All sums are kept with the time axis centred on the newest point, so they stay well conditioned
 * however long the series runs.
 *
 * Crossing time: the first instant after `now` at which trend + season reaches the limit, found by
 * stepping forward in quarter-hour steps.
 *
 * Interval: a ~90% interval ({@link INTERVAL_Z}) for when trend + season - the series without its
 * noise - reaches the limit. The same search runs with the trend moved towards the limit by
 * z * sd(tau) (the early end) and away from it (the late end; Infinity when it never gets there
 * within twice the horizon), where tau is the time ahead and
 *   sd(tau)^2 = F * (Var(weighted mean) + (tau - u)^2 * Var(slope))   (the chosen window's fit)
 *             + (SLOPE_UNCERTAINTY * slope * (tau - u))^2 + (SEASON_UNCERTAINTY * amplitude)^2
 * with u the window's weighted mean time (before now: a long window's level is extrapolated
 * further, so it is less certain now than at its centre). F corrects the regression's variances,
 * which assume independent residuals, for residuals that are not: at each evaluation, the mean
 * residual of the points since the last one (a 15-minute bucket) from each window's fit feeds
 * per-window sums of its square and of its product with the previous bucket's; F is their
 * long-run variance (AR(1) at the bucket scale: bucket variance * (1 + rho) / (1 - rho), rho the
 * lag-1 autocorrelation, capped at {@link MAX_RESIDUAL_RHO}) over the point variance, at least 1.
 * It catches AR noise and leftovers of the daily pattern. The last two terms are model error the
 * fit cannot see: a trend that bends (or a long window lagging a bend the Lepski rule does not
 * reject yet) and a daily peak that 3 harmonics round off or that drifts. Cost: 4 sums per window
 * and 3 for the bucket (23 doubles); the three searches share one pass.
 * Measured with a scratch script (not in the repository) on synthetic climbs of 2-10 days to the
 * limit after 1-3 flat days, daily pattern 0-30% of the level, white or AR(1) noise of 1-5% with
 * a correlation time of 5 min to 2 h, 1- and 5-minute points, some bending +-20%, asked 25, 50 and
 * 75% of the way: the interval contains the true crossing 88% of the time (87.5% on series not
 * used for tuning: linear with white noise 92%, with AR(1) noise 90%, accelerating 81%,
 * decelerating 86%; 77% asked at 25% of the way, 91% at 50%, 94% at 75%), with a median width of
 * 0.40 times the remaining time. Before (slope +- 1.96 standard errors only) it was ~18%, median
 * width 0.02. On those series the estimate itself is within 15% of the remaining time in ~68% of
 * the cases (the misses: shortly after the climb starts, bends, a daily peak that reaches the
 * limit a day earlier or later than fitted). The interval is too narrow for a daily pattern whose
 * amplitude grows with the level (multiplicative, ~55%): the additive model's estimate itself is
 * then within 15% only ~40% of the time.
 * A forecaster restored from a version-2 snapshot starts its residual sums empty (F = 1 until
 * they fill: for its first hours the interval misses the autocorrelation correction).
 *
 * Trust: nothing is predicted before {@link DEFAULT_MIN_HISTORY_MS} of history, and a crossing
 * needs the slope to be {@link DEFAULT_MIN_SLOPE_T} standard errors away from zero (or the fit to
 * be past the limit already), so a noisy flat series predicts nothing. The confirming window
 * ({@link CONFIRM_HALF_LIFE_MS}) must also hold at least one half-life of seasonally adjusted data,
 * so the first crossing can come half a day after the seasonal fit became usable: a few hours of
 * trend right after one day of history read a day that differs from the first (a Monday after a
 * Sunday) as a trend.
 */
import {
  STATE_ARRAY_OVERHEAD_BYTES,
  SnapshotReader,
  SnapshotWriter,
  zeroState,
  type DetectorState,
  type SnapshotKind,
} from './snapshot.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Daily harmonics of the seasonal fit (3: a daily peak a few hours wide still fits well). */
export const HARMONICS = 3;
/** Half-life of the seasonal fit: the daily pattern is learnt over several days. */
export const SEASON_HALF_LIFE_MS = 3 * DAY_MS;
/** Half-lives of the trend regressions, shortest first. */
export const TREND_HALF_LIVES_MS: readonly number[] = [3 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 2 * DAY_MS];
/** A longer trend window is used only while its slope is within this many standard errors of every shorter one's. */
export const AGREEMENT_SE = 2;
/** ... or, when more, within this fraction of the shorter one's slope (a noise-free series has standard errors near 0). */
export const AGREEMENT_REL = 0.05;
/** History needed before a forecast is made (one daily cycle, so the seasonal terms are identified). */
export const DEFAULT_MIN_HISTORY_MS = DAY_MS;
/** The slope must be this many standard errors from zero before the trend is believed. */
export const DEFAULT_MIN_SLOPE_T = 4;
/** Half-life of the smoothed crossing estimate that a new estimate must agree with. */
export const SETTLE_HALF_LIFE_MS = HOUR_MS;
/** A crossing raises a score only while it is within this fraction of the remaining time of the smoothed estimate. */
export const SETTLE_TOLERANCE = 0.25;
/** Half-life of the confirming trend window: its slope must point to the limit too (a short window alone echoes a past jump). */
export const CONFIRM_HALF_LIFE_MS = 12 * HOUR_MS;
/** Standard normal quantile of the crossing interval: 1.645 for a two-sided ~90% interval. */
export const INTERVAL_Z = 1.645;
/** Largest lag-1 autocorrelation of the residuals believed (near 1 the AR(1) inflation explodes). */
export const MAX_RESIDUAL_RHO = 0.95;
/**
 * Model error allowed for in the interval, beyond the fit's own: the slope may be off by this
 * fraction of itself (a trend bending, a long window lagging a bend too small for the Lepski rule)...
 */
export const SLOPE_UNCERTAINTY = 0.05;
/** ... and the daily pattern's peak by this fraction of its amplitude (3 harmonics round a sharp peak; a pattern drifts). */
export const SEASON_UNCERTAINTY = 0.1;
/** The crossing search looks this many horizons ahead (the late end of the interval may lie beyond the horizon). */
const SEARCH_HORIZONS = 2;
/** A trend window counts once it holds this many points' worth of weight. */
const MIN_WINDOW_POINTS = 12;
/** Steps per day of the crossing search. */
const STEPS_PER_DAY = 96;

const P = 2 + 2 * HARMONICS; // seasonal fit parameters: level, slope, (sin, cos) per harmonic
const NA = (P * (P + 1)) / 2; // packed upper triangle of its normal matrix
const K = TREND_HALF_LIVES_MS.length;
const T = 7; // sums per trend regression: S0, S1, S2, Sx, Sux, Sxx, W2
const Q = 4; // residual sums per trend window: Sw, Sw n r^2, Sw sqrt(n n') r r', sqrt(n) r of the last bucket
const SNAPSHOT_VERSION = 3;
/** the previous layout (no residual sums), still restored */
const SNAPSHOT_VERSION_NO_RESIDUALS = 2;
/**
 * The forecast is re-evaluated (seasonal solve, trend windows, crossing search: ~5-15 µs) at most
 * once per 15 minutes of event time; points in between only update the running sums and get the
 * last evaluation. A prediction hours to days ahead does not move meaningfully faster, and it
 * keeps the cost per point of a 1-minute series near that of the sums alone.
 */
export const EVAL_EVERY_MS = 15 * 60_000;
/** number of cached output fields in a snapshot */
const CACHED = 8;
/** doubles in the state (and in a snapshot): sums, residual sums, bucket, scalars, seasonal coefficients, cached output */
const STATE_DOUBLES = NA + P + K * T + K * Q + 3 + 6 + P + CACHED;

/**
 * State layout: one {@link DetectorState} per series, every number of the forecaster in its slots,
 * in the order of the snapshot's body (so a snapshot is the array written out, slot by slot).
 */
const A_AT = 0; // seasonal fit: A = sum w x x' (packed upper triangle, NA)
const B_AT = A_AT + NA; // ... and B = sum w x y (P)
const R_AT = B_AT + P; // trend regressions, T sums each, time in days from the newest point (K * T)
const RQ_AT = R_AT + K * T; // residuals of each trend window at the scale of an evaluation interval (K * Q)
const BUCKET_AT = RQ_AT + K * Q; // the points since the last evaluation: count, sum of adjusted values, sum of (ts - evalMs)
const FIRST_AT = BUCKET_AT + 3; // first and last point's time (NaN before the first)
const LAST_AT = FIRST_AT + 1;
const SETTLED_AT = LAST_AT + 1; // smoothed crossing time (NaN while none is predicted)
const RAISED_AT = SETTLED_AT + 1; // 1 while a score is being raised
const EVAL_AT = RAISED_AT + 1; // the last evaluation: when (NaN before the first)...
const SEASONAL_OK_AT = EVAL_AT + 1; // ... whether the seasonal fit was usable (1)...
const BETA_AT = SEASONAL_OK_AT + 1; // ... its seasonal coefficients (P; between evaluations they are reused)...
const CACHED_AT = BETA_AT + P; // ... and its output (CACHED)
if (CACHED_AT + CACHED !== STATE_DOUBLES) throw new Error('forecast state layout does not add up');

/**
 * Heap of a forecaster: its object (a 24-byte header and two fields, the shared model and the
 * state array: V8's instance size, Node 20, 64-bit, no pointer compression) and its state array
 * (48 bytes of array object and backing-store header, 8 per double).
 */
const FORECASTER_OBJECT_BYTES = 40;
/** `stateBytes` of a forecaster of a {@link forecasterFactory}: 1,080 (1,079-1,080 measured on Node 20, 5,000-20,000 of them, --expose-gc) */
const FORECASTER_BYTES = FORECASTER_OBJECT_BYTES + STATE_ARRAY_OVERHEAD_BYTES + 8 * STATE_DOUBLES;
/**
 * A model of its own ({@link createForecaster}): a 24-byte header and six fields (more when an
 * option is not a small integer and takes a heap number of its own).
 */
const FORECAST_MODEL_BYTES = 72;

// scratch shared by every forecaster: update() is synchronous, so no two use it at once
const x = new Float64Array(P);
const L = new Float64Array(P * P);
const harm = new Float64Array(2 * HARMONICS + 2);
const agreedSlope = new Float64Array(K);
const agreedSe = new Float64Array(K);
// the crossing search's results: estimate, early end, late end
const crossed = new Float64Array(3);
// the band of the crossing search: sd(tau)^2 = bandV0 + bandV1 * (tau - bandU)^2, tau in days
let bandV0 = 0;
let bandV1 = 0;
let bandU = 0;
// decay factors of the last interval seen (shared: they depend on the interval only)
let decayDtMs = NaN;
let decaySeason = 1;
const decayTrend = new Float64Array(K);
// a snapshot's arrays are read through this (restoring is not on the hot path)
const restoreScratch = new Float64Array(STATE_DOUBLES);
/** a fresh state, to copy (the same for every set of options): the times start NaN, everything else 0 */
const TEMPLATE: DetectorState = zeroState(STATE_DOUBLES);
TEMPLATE[FIRST_AT] = NaN;
TEMPLATE[LAST_AT] = NaN;
TEMPLATE[SETTLED_AT] = NaN;
TEMPLATE[EVAL_AT] = NaN;
/** the trend window whose slope must confirm a crossing (see {@link CONFIRM_HALF_LIFE_MS}) */
const CONFIRM_K = Math.max(0, TREND_HALF_LIVES_MS.indexOf(CONFIRM_HALF_LIFE_MS));
/** kind byte of forecast snapshots (SnapshotKind in snapshot.ts lists the detectors; 16 is kept clear of them) */
const FORECAST_SNAPSHOT_KIND = 16 as SnapshotKind;

/** Options of {@link createForecaster}. */
export interface ForecastOptions {
  /** the limit the series must not cross */
  limit: number;
  /** 'above': the problem is reaching the limit from below (quota, latency); 'below': falling to it (headroom) */
  when: 'above' | 'below';
  /** crossings predicted within this time raise a signal */
  horizonMs: number;
  minHistoryMs?: number;
  minSlopeT?: number;
}

/** The forecast after one point. Times are event times, ms since epoch; NaN when unknown. */
export interface Forecast {
  /**
   * 0 when no crossing is predicted within the horizon; otherwise 0.5 (crossing at the horizon)
   * rising linearly to 1 (limit reached now). {@link criticalScore} gives the critical threshold.
   */
  score: number;
  /** predicted crossing time (NaN: none predicted within twice the horizon) */
  crossingMs: number;
  /** early end of the interval (NaN when no crossing is predicted) */
  lowMs: number;
  /** late end of the interval (Infinity: the slope might be zero; NaN when no crossing is predicted) */
  highMs: number;
  /** fitted value now (trend + season) */
  fitted: number;
  /** fitted trend, per day */
  slopePerDay: number;
  /** the slope's standard error, per day, as the regression gives it (for independent residuals; the interval inflates it) */
  slopeSePerDay: number;
  /** half-life of the trend window used, ms (NaN before the first forecast) */
  windowMs: number;
}

/** A streaming forecaster of one series. */
export interface Forecaster {
  /** feeds one point (non-decreasing event time) and returns the forecast, written into `out` when given */
  update(tsMs: number, value: number, out?: Forecast): Forecast;
  snapshot(): Uint8Array;
  readonly stateBytes: number;
}

/** Creates forecasters with fixed options (validated here, once), sharing one model. */
export interface ForecasterFactory {
  /** a fresh forecaster, or one restored from `snapshot()` bytes (throws SnapshotError on bad bytes) */
  create(snapshot?: Uint8Array): Forecaster;
}

/** The score at and above which a forecast is critical: a crossing within `criticalWithinMs`. */
export function criticalScore(horizonMs: number, criticalWithinMs: number): number {
  return 1 - 0.5 * Math.min(1, Math.max(0, criticalWithinMs / horizonMs));
}

/** An empty forecast (nothing predicted). */
export function emptyForecast(): Forecast {
  return { score: 0, crossingMs: NaN, lowMs: NaN, highMs: NaN, fitted: NaN, slopePerDay: 0, slopeSePerDay: NaN, windowMs: NaN };
}

// index into the packed upper triangle
const idx = (i: number, j: number): number => (i <= j ? i * P - (i * (i - 1)) / 2 + (j - i) : j * P - (j * (j - 1)) / 2 + (i - j));

/** phase of the day at `tsMs`, radians */
const phaseOf = (tsMs: number): number => (2 * Math.PI * (((tsMs % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;

/** sin/cos of k * phase for k = 1..HARMONICS into harm[2k], harm[2k+1] (Chebyshev recurrence) */
function harmonics(s1: number, c1: number): void {
  harm[2] = s1;
  harm[3] = c1;
  for (let k = 2; k <= HARMONICS; k++) {
    const sp = harm[2 * k - 2]!;
    const cp = harm[2 * k - 1]!;
    harm[2 * k] = sp * c1 + cp * s1;
    harm[2 * k + 1] = cp * c1 - sp * s1;
  }
}

/** the fitted season of state `s` for the harmonics in `harm` */
function season(s: DetectorState): number {
  let v = 0;
  for (let k = 1; k <= HARMONICS; k++) v += s[BETA_AT + 2 * k]! * harm[2 * k]! + s[BETA_AT + 2 * k + 1]! * harm[2 * k + 1]!;
  return v;
}

/** the amplitude bound of the fitted daily pattern: the sum of its harmonics' amplitudes */
function amplitude(s: DetectorState): number {
  let amp = 0;
  for (let k = 1; k <= HARMONICS; k++) amp += Math.hypot(s[BETA_AT + 2 * k]!, s[BETA_AT + 2 * k + 1]!);
  return amp;
}

/** Cholesky of A (+ a tiny ridge) into L; false when A is not positive definite (too little data) */
function factor(s: DetectorState): boolean {
  const ridge = 1e-9 * s[A_AT + idx(0, 0)]!;
  for (let i = 0; i < P; i++) {
    for (let j = 0; j <= i; j++) {
      let v = s[A_AT + idx(i, j)]! + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) v -= L[i * P + k]! * L[j * P + k]!;
      if (i === j) {
        if (!(v > 0)) return false;
        L[i * P + i] = Math.sqrt(v);
      } else L[i * P + j] = v / L[j * P + j]!;
    }
  }
  return true;
}

/** solves L L' beta = beta in place, beta being the P slots of `s` from `at` */
function solve(s: DetectorState, at: number): void {
  for (let i = 0; i < P; i++) {
    let v = s[at + i]!;
    for (let k = 0; k < i; k++) v -= L[i * P + k]! * s[at + k]!;
    s[at + i] = v / L[i * P + i]!;
  }
  for (let i = P - 1; i >= 0; i--) {
    let v = s[at + i]!;
    for (let k = i + 1; k < P; k++) v -= L[k * P + i]! * s[at + k]!;
    s[at + i] = v / L[i * P + i]!;
  }
}

/** the band's half-width `tau` days ahead: INTERVAL_Z standard deviations of the fitted trend there */
const bandAt = (tauDays: number): number => INTERVAL_Z * Math.sqrt(bandV0 + bandV1 * (tauDays - bandU) * (tauDays - bandU));

/**
 * Closes the bucket of points since the last evaluation: its mean residual from each trend
 * window's current fit (scaled by the square root of its point count, so white noise gives the
 * point variance whatever the bucket size) goes into that window's residual sums.
 */
function residuals(s: DetectorState, nowMs: number, prevEvalMs: number): void {
  const n = s[BUCKET_AT]!;
  const dtMs = nowMs - prevEvalMs;
  // mean time of the bucket, days before now
  const u = n > 0 && Number.isFinite(dtMs) ? (s[BUCKET_AT + 2]! / n - dtMs) / DAY_MS : 0;
  const mean = n > 0 ? s[BUCKET_AT + 1]! / n : 0;
  for (let k = 0; k < K; k++) {
    const q = RQ_AT + k * Q;
    if (Number.isFinite(dtMs)) {
      const dk = Math.pow(0.5, dtMs / TREND_HALF_LIVES_MS[k]!);
      s[q] = s[q]! * dk;
      s[q + 1] = s[q + 1]! * dk;
      s[q + 2] = s[q + 2]! * dk;
    }
    const o = R_AT + k * T;
    const s0 = s[o]!;
    const s1 = s[o + 1]!;
    const det = s0 * s[o + 2]! - s1 * s1;
    if (n === 0 || !(det > 0) || s0 < 4) {
      s[q + 3] = 0;
      continue;
    }
    const b = (s0 * s[o + 4]! - s1 * s[o + 3]!) / det;
    const a = (s[o + 3]! - b * s1) / s0;
    const r = Math.sqrt(n) * (mean - a - b * u);
    s[q] = s[q]! + 1;
    s[q + 1] = s[q + 1]! + r * r;
    s[q + 2] = s[q + 2]! + r * s[q + 3]!;
    s[q + 3] = r;
  }
  s[BUCKET_AT] = 0;
  s[BUCKET_AT + 1] = 0;
  s[BUCKET_AT + 2] = 0;
}

/**
 * Sets the band of the crossing search from trend window `k` (point residual variance
 * `sigma2`): the variance of its weighted mean and slope, inflated by the ratio of the
 * residuals' long-run variance (from the bucket residuals and their lag-1 autocorrelation, as
 * for an AR(1)) to the point variance, never below 1.
 */
function setBand(s: DetectorState, k: number, sigma2: number, slope: number): void {
  const o = R_AT + k * T;
  const s0 = s[o]!;
  const s1 = s[o + 1]!;
  const det = s0 * s[o + 2]! - s1 * s1;
  const w2 = s[o + 6]!;
  const q = RQ_AT + k * Q;
  const bucketVar = s[q]! > 0 ? s[q + 1]! / s[q]! : 0;
  const rho = s[q + 1]! > 0 ? Math.min(MAX_RESIDUAL_RHO, Math.max(0, s[q + 2]! / s[q + 1]!)) : 0;
  const inflation = sigma2 > 0 ? Math.max(1, (bucketVar * (1 + rho)) / (1 - rho) / sigma2) : 1;
  const amp = amplitude(s);
  bandV0 = (inflation * sigma2 * w2) / (s0 * s0) + (SEASON_UNCERTAINTY * amp) ** 2;
  bandV1 = (inflation * sigma2 * w2) / det + (SLOPE_UNCERTAINTY * slope) ** 2;
  bandU = s1 / s0;
}

const OUT_FIELDS = ['score', 'crossingMs', 'lowMs', 'highMs', 'fitted', 'slopePerDay', 'slopeSePerDay', 'windowMs'] as const;

/** keeps `out` as the last evaluation's output in `s` */
function toCache(s: DetectorState, out: Forecast): Forecast {
  for (let i = 0; i < CACHED; i++) s[CACHED_AT + i] = out[OUT_FIELDS[i]!];
  return out;
}

/** writes the last evaluation's output into `out` */
function fromCache(s: DetectorState, out: Forecast): Forecast {
  for (let i = 0; i < CACHED; i++) out[OUT_FIELDS[i]!] = s[CACHED_AT + i]!;
  return out;
}

/** reads `n` doubles of a snapshot into slots `at..at+n-1` (one length check, as the reader does per array) */
function readSlots(r: SnapshotReader, s: DetectorState, at: number, n: number): void {
  const v = restoreScratch.subarray(0, n);
  r.f64Array(v);
  for (let i = 0; i < n; i++) s[at + i] = v[i]!;
}

/**
 * The forecasting algorithm with one set of options, shared by every forecaster of a factory:
 * its methods take the state array of the series.
 */
class ForecastModel {
  readonly limit: number;
  readonly horizonMs: number;
  /** 1: the limit is reached from below; -1: from above */
  readonly sign: number;
  readonly minHistoryMs: number;
  readonly minSlopeT: number;

  /** `own`: the model of one forecaster alone ({@link createForecaster}), counted in its `stateBytes` */
  constructor(
    options: ForecastOptions,
    readonly own: boolean,
  ) {
    this.limit = options.limit;
    this.horizonMs = options.horizonMs;
    this.sign = options.when === 'below' ? -1 : 1;
    this.minHistoryMs = options.minHistoryMs ?? DEFAULT_MIN_HISTORY_MS;
    this.minSlopeT = options.minSlopeT ?? DEFAULT_MIN_SLOPE_T;
    if (!(this.horizonMs > 0) || !Number.isFinite(this.limit)) {
      throw new Error(`invalid forecast options: limit ${this.limit}, horizon ${this.horizonMs} ms`);
    }
  }

  /**
   * The first times in [now, now + maxMs] at which trend + season reaches the limit (the estimate),
   * and at which it does so with the trend moved by {@link bandAt} towards the limit (the early
   * end) and away from it (the late end), into `crossed`; NaN where not reached. One pass serves
   * all three: the season is evaluated once per step.
   */
  private crossings(s: DetectorState, nowMs: number, level: number, slopePerDay: number, maxMs: number): void {
    const { sign, limit } = this;
    crossed.fill(NaN);
    const amp = amplitude(s);
    const maxDays = maxMs / DAY_MS;
    const trendEnd = level + slopePerDay * maxDays;
    // even the seasonal peak on the best trend, moved by the widest band, never reaches the limit: no search needed
    if (Math.max(sign * level, sign * trendEnd) + amp + bandAt(maxDays) < sign * limit) return;
    const phase0 = phaseOf(nowMs);
    harmonics(Math.sin(phase0), Math.cos(phase0));
    const gap0 = sign * (level + season(s) - limit);
    const band0 = bandAt(0);
    let prevAt = gap0;
    let prevEarly = gap0 + band0;
    let prevLate = gap0 - band0;
    // the late end is reached last (the band is never negative): the search ends there
    if (prevAt >= 0) crossed[0] = nowMs;
    if (prevEarly >= 0) crossed[1] = nowMs;
    if (prevLate >= 0) {
      crossed[2] = nowMs;
      return;
    }
    const stepMs = DAY_MS / STEPS_PER_DAY;
    const steps = Math.ceil(maxMs / stepMs);
    // the phase advances by rotation: no trigonometry inside the loop
    const cd = Math.cos((2 * Math.PI) / STEPS_PER_DAY);
    const sd = Math.sin((2 * Math.PI) / STEPS_PER_DAY);
    let s1 = harm[2]!;
    let c1 = harm[3]!;
    for (let n = 1; n <= steps; n++) {
      const ns = s1 * cd + c1 * sd;
      c1 = c1 * cd - s1 * sd;
      s1 = ns;
      harmonics(s1, c1);
      const gap = sign * (level + (slopePerDay * n) / STEPS_PER_DAY + season(s) - limit);
      const band = bandAt(n / STEPS_PER_DAY);
      const early = gap + band;
      const late = gap - band;
      // linear interpolation within the step
      if (early >= 0 && Number.isNaN(crossed[1]!)) crossed[1] = nowMs + (n - 1 + prevEarly / (prevEarly - early)) * stepMs;
      if (gap >= 0 && Number.isNaN(crossed[0]!)) crossed[0] = nowMs + (n - 1 + prevAt / (prevAt - gap)) * stepMs;
      if (late >= 0) {
        crossed[2] = nowMs + (n - 1 + prevLate / (prevLate - late)) * stepMs;
        return;
      }
      prevAt = gap;
      prevEarly = early;
      prevLate = late;
    }
  }

  /** the confirming window's slope points to the limit, significantly */
  private confirmed(s: DetectorState): boolean {
    const o = R_AT + CONFIRM_K * T;
    const s0 = s[o]!;
    const s1 = s[o + 1]!;
    const det = s0 * s[o + 2]! - s1 * s1;
    if (!(det > 0)) return false;
    const b = (s0 * s[o + 4]! - s1 * s[o + 3]!) / det;
    const a = (s[o + 3]! - b * s1) / s0;
    const sse = Math.max(0, s[o + 5]! - a * s[o + 3]! - b * s[o + 4]!);
    const nEff = (s0 * s0) / s[o + 6]!;
    if (nEff < MIN_WINDOW_POINTS) return false;
    // ... holding at least one half-life of data: a window of a few hours' points, just after the
    // seasonal fit became usable, reads a leftover of the daily pattern as a trend (for weights
    // decaying per point by r, sum w / sum w^2 = (1 + r) / (1 + r^n): 1 when empty, 4/3 once
    // n points span one half-life, 2 in the long run; no clock or sampling interval needed)
    if (3 * s0 < 4 * s[o + 6]!) return false;
    const se = Math.sqrt(((sse / (s0 * (1 - 2 / nEff))) * (s[o + 6]! / s0) * s0) / det);
    return this.sign * b >= this.minSlopeT * se;
  }

  /** feeds one point to the series of state `s`; the forecast goes into `out` */
  update(s: DetectorState, tsMs: number, value: number, out: Forecast): Forecast {
    const { sign, limit, horizonMs } = this;
    out.score = 0;
    out.crossingMs = NaN;
    out.lowMs = NaN;
    out.highMs = NaN;
    out.fitted = NaN;
    out.slopePerDay = 0;
    out.slopeSePerDay = NaN;
    out.windowMs = NaN;
    const lastMs = s[LAST_AT]!;
    // the hot path never throws on bad data: a non-finite or late point is skipped
    if (!Number.isFinite(value) || !Number.isFinite(tsMs) || tsMs < lastMs) return out;
    if (Number.isNaN(s[FIRST_AT]!)) s[FIRST_AT] = tsMs;
    if (!Number.isNaN(lastMs) && tsMs > lastMs) {
      const dtMs = tsMs - lastMs;
      const d = dtMs / DAY_MS;
      // re-centre the time column on the new point (u' = u - d), then decay
      s[A_AT + idx(1, 1)] = s[A_AT + idx(1, 1)]! - 2 * d * s[A_AT + idx(0, 1)]! + d * d * s[A_AT + idx(0, 0)]!;
      for (let j = 0; j < P; j++) if (j !== 1) s[A_AT + idx(1, j)] = s[A_AT + idx(1, j)]! - d * s[A_AT + idx(0, j)]!;
      s[B_AT + 1] = s[B_AT + 1]! - d * s[B_AT]!;
      // series arrive at a steady interval: the decay factors are computed once per new interval
      if (dtMs !== decayDtMs) {
        decayDtMs = dtMs;
        decaySeason = Math.pow(0.5, dtMs / SEASON_HALF_LIFE_MS);
        for (let k = 0; k < K; k++) decayTrend[k] = Math.pow(0.5, dtMs / TREND_HALF_LIVES_MS[k]!);
      }
      const ds = decaySeason;
      for (let i = A_AT; i < A_AT + NA; i++) s[i] = s[i]! * ds;
      for (let i = B_AT; i < B_AT + P; i++) s[i] = s[i]! * ds;
      for (let k = 0; k < K; k++) {
        const o = R_AT + k * T;
        const dk = decayTrend[k]!;
        const s0 = s[o]!;
        const s1 = s[o + 1]!;
        s[o] = s0 * dk;
        s[o + 1] = (s1 - d * s0) * dk;
        s[o + 2] = (s[o + 2]! - 2 * d * s1 + d * d * s0) * dk;
        s[o + 4] = (s[o + 4]! - d * s[o + 3]!) * dk;
        s[o + 3] = s[o + 3]! * dk;
        s[o + 5] = s[o + 5]! * dk;
        s[o + 6] = s[o + 6]! * dk * dk;
      }
    }
    s[LAST_AT] = tsMs;

    // seasonal fit, at u = 0
    const ph = phaseOf(tsMs);
    harmonics(Math.sin(ph), Math.cos(ph));
    x[0] = 1;
    x[1] = 0;
    for (let k = 1; k <= HARMONICS; k++) {
      x[2 * k] = harm[2 * k]!;
      x[2 * k + 1] = harm[2 * k + 1]!;
    }
    // the packed upper triangle is laid out row by row: (i, j >= i) is the next slot
    let pos = A_AT;
    for (let i = 0; i < P; i++) {
      const xi = x[i]!;
      if (xi === 0) {
        pos += P - i;
        continue;
      }
      for (let j = i; j < P; j++, pos++) s[pos] = s[pos]! + xi * x[j]!;
      s[B_AT + i] = s[B_AT + i]! + xi * value;
    }
    const history = tsMs - s[FIRST_AT]!;
    let evalMs = s[EVAL_AT]!;
    const due = Number.isNaN(evalMs) || tsMs - evalMs >= EVAL_EVERY_MS;
    if (due) {
      s[SEASONAL_OK_AT] = history >= this.minHistoryMs && factor(s) ? 1 : 0;
      if (s[SEASONAL_OK_AT] === 1) {
        for (let i = 0; i < P; i++) s[BETA_AT + i] = s[B_AT + i]!;
        solve(s, BETA_AT);
      } else for (let i = 0; i < P; i++) s[BETA_AT + i] = 0;
    }
    // the trend windows start with the seasonal fit: a day of unadjusted data would show the
    // daily pattern as a trend
    if (s[SEASONAL_OK_AT] !== 1) {
      if (due) {
        s[EVAL_AT] = tsMs;
        for (let i = 0; i < CACHED; i++) s[CACHED_AT + i] = NaN;
        s[CACHED_AT] = 0;
        s[CACHED_AT + 5] = 0;
      }
      return out;
    }
    // (harm still holds the harmonics of tsMs)
    const seasonNow = season(s);
    const adjusted = value - seasonNow;
    for (let k = 0; k < K; k++) {
      const o = R_AT + k * T;
      s[o] = s[o]! + 1;
      s[o + 3] = s[o + 3]! + adjusted;
      s[o + 5] = s[o + 5]! + adjusted * adjusted;
      s[o + 6] = s[o + 6]! + 1;
    }
    s[BUCKET_AT] = s[BUCKET_AT]! + 1;
    s[BUCKET_AT + 1] = s[BUCKET_AT + 1]! + adjusted;
    s[BUCKET_AT + 2] = s[BUCKET_AT + 2]! + (Number.isNaN(evalMs) ? 0 : tsMs - evalMs);
    if (!due) return fromCache(s, out);
    const prevEvalMs = evalMs;
    evalMs = tsMs;
    s[EVAL_AT] = evalMs;
    residuals(s, tsMs, prevEvalMs);

    // Lepski: the longest window whose slope agrees with every shorter one
    let level = NaN;
    let slope = 0;
    let se = NaN;
    let windowMs = NaN;
    let chosen = -1;
    let chosenSigma2 = NaN;
    let prevSlopes = 0; // how many shorter windows are in `agreed*` below
    for (let k = 0; k < K; k++) {
      const o = R_AT + k * T;
      const s0 = s[o]!;
      const s1 = s[o + 1]!;
      const s2 = s[o + 2]!;
      const sx = s[o + 3]!;
      const sux = s[o + 4]!;
      const det = s0 * s2 - s1 * s1;
      if (!(det > 0) || s0 < 4) break;
      const b = (s0 * sux - s1 * sx) / det;
      const a = (sx - b * s1) / s0;
      const sse = Math.max(0, s[o + 5]! - a * sx - b * sux);
      const nEff = (s0 * s0) / s[o + 6]!;
      if (nEff < MIN_WINDOW_POINTS) break;
      const sigma2 = sse / (s0 * (1 - 2 / nEff));
      const seK = Math.sqrt((sigma2 * (s[o + 6]! / s0) * s0) / det);
      let agrees = true;
      for (let j = 0; j < prevSlopes; j++) {
        if (Math.abs(b - agreedSlope[j]!) > Math.max(AGREEMENT_SE * agreedSe[j]!, AGREEMENT_REL * Math.abs(agreedSlope[j]!))) {
          agrees = false;
          break;
        }
      }
      if (!agrees) break;
      agreedSlope[prevSlopes] = b;
      agreedSe[prevSlopes] = seK;
      prevSlopes += 1;
      level = a;
      slope = b;
      se = seK;
      windowMs = TREND_HALF_LIVES_MS[k]!;
      chosen = k;
      chosenSigma2 = sigma2;
    }
    if (Number.isNaN(level)) return toCache(s, out);
    out.fitted = level + seasonNow;
    out.slopePerDay = slope;
    out.slopeSePerDay = se;
    out.windowMs = windowMs;

    const beyond = sign * (out.fitted - limit) >= 0;
    // a trend pointing away from the limit, or too uncertain to believe, predicts nothing
    if (!beyond && (!(sign * slope >= this.minSlopeT * se) || !this.confirmed(s))) {
      s[SETTLED_AT] = NaN;
      s[RAISED_AT] = 0;
      return toCache(s, out);
    }
    const maxMs = SEARCH_HORIZONS * horizonMs;
    setBand(s, chosen, chosenSigma2, slope);
    this.crossings(s, tsMs, level, slope, maxMs);
    const at = crossed[0]!;
    if (Number.isNaN(at)) {
      s[SETTLED_AT] = NaN;
      s[RAISED_AT] = 0;
      return toCache(s, out);
    }
    // a trend that has just bent gives estimates that still move fast: the estimate must have
    // settled (agree with its own recent smoothed value) before it raises a score
    // smoothing over the time since the last evaluation (evaluations are EVAL_EVERY_MS apart)
    let settledMs = s[SETTLED_AT]!;
    const a = Number.isNaN(settledMs) || Number.isNaN(prevEvalMs) ? 1 : 1 - Math.pow(0.5, (tsMs - prevEvalMs) / SETTLE_HALF_LIFE_MS);
    settledMs = Number.isNaN(settledMs) ? at : settledMs + a * (at - settledMs);
    s[SETTLED_AT] = settledMs;
    const settled = beyond || Math.abs(at - settledMs) <= SETTLE_TOLERANCE * Math.max(0, at - tsMs);
    out.crossingMs = at;
    const early = crossed[1]!;
    const late = crossed[2]!;
    out.lowMs = Number.isNaN(early) ? at : early;
    out.highMs = Number.isNaN(late) ? Infinity : late;
    const remaining = at - tsMs;
    // once raised, the score stays while the crossing stays within the horizon (no flapping)
    if (remaining <= horizonMs && (settled || s[RAISED_AT] === 1)) {
      out.score = 0.5 + 0.5 * (1 - remaining / horizonMs);
      s[RAISED_AT] = 1;
    } else s[RAISED_AT] = 0;
    return toCache(s, out);
  }

  /** the snapshot of state `s`: its slots in order */
  snapshot(s: DetectorState): Uint8Array {
    const w = new SnapshotWriter(FORECAST_SNAPSHOT_KIND, SNAPSHOT_VERSION, STATE_DOUBLES * 8);
    for (let i = 0; i < STATE_DOUBLES; i++) w.f64(s[i]!);
    return w.finish();
  }

  /** restores state `s` (a fresh copy of {@link TEMPLATE}) from snapshot bytes; throws SnapshotError on bad bytes */
  restore(s: DetectorState, bytes: Uint8Array): void {
    const r = new SnapshotReader(bytes, FORECAST_SNAPSHOT_KIND, [SNAPSHOT_VERSION, SNAPSHOT_VERSION_NO_RESIDUALS], 'forecast');
    readSlots(r, s, A_AT, NA);
    readSlots(r, s, B_AT, P);
    readSlots(r, s, R_AT, K * T);
    // a version-2 state has no residual sums: they start empty (the interval is narrow until they fill)
    if (r.version === SNAPSHOT_VERSION) {
      readSlots(r, s, RQ_AT, K * Q);
      readSlots(r, s, BUCKET_AT, 3);
    }
    for (let i = FIRST_AT; i <= SEASONAL_OK_AT; i++) s[i] = r.f64();
    readSlots(r, s, BETA_AT, P);
    readSlots(r, s, CACHED_AT, CACHED);
    r.end();
  }
}

/** One series' forecaster: its state array and the shared model (no closures, no typed arrays). */
class ForecasterImpl implements Forecaster {
  private readonly s: DetectorState;

  constructor(
    private readonly m: ForecastModel,
    snapshot?: Uint8Array,
  ) {
    this.s = TEMPLATE.slice();
    if (snapshot !== undefined) m.restore(this.s, snapshot);
  }

  update(tsMs: number, value: number, out: Forecast = emptyForecast()): Forecast {
    return this.m.update(this.s, tsMs, value, out);
  }

  snapshot(): Uint8Array {
    return this.m.snapshot(this.s);
  }

  get stateBytes(): number {
    return FORECASTER_BYTES + (this.m.own ? FORECAST_MODEL_BYTES : 0);
  }
}

/** Creates a forecaster, or restores one from `snapshot()` bytes (throws SnapshotError on bad bytes). */
export function createForecaster(options: ForecastOptions, snapshot?: Uint8Array): Forecaster {
  return new ForecasterImpl(new ForecastModel(options, true), snapshot);
}

/** A {@link ForecasterFactory}: the options are validated here, once, and its forecasters share one model. */
export function forecasterFactory(options: ForecastOptions): ForecasterFactory {
  const model = new ForecastModel(options, false);
  return { create: (snapshot?: Uint8Array) => new ForecasterImpl(model, snapshot) };
}
