/**
 * Limit forecasting: predicts when a series will cross a limit declared in the rules (a quota at
 * 100%, a latency SLO) so an advisory can say "limit reached in ~2 days" before it happens. Pure
 * and streaming: one small state per series (~1.4 KB), fed in event time, no look-back buffer.
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
 * be past the limit already), so a noisy flat series predicts nothing.
 */
import { SnapshotReader, SnapshotWriter, type SnapshotKind } from './snapshot.ts';

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

/** Creates a forecaster, or restores one from `snapshot()` bytes (throws SnapshotError on bad bytes). */
export function createForecaster(options: ForecastOptions, snapshot?: Uint8Array): Forecaster {
  const { limit, horizonMs } = options;
  const sign = options.when === 'below' ? -1 : 1;
  const minHistoryMs = options.minHistoryMs ?? DEFAULT_MIN_HISTORY_MS;
  const minSlopeT = options.minSlopeT ?? DEFAULT_MIN_SLOPE_T;
  if (!(horizonMs > 0) || !Number.isFinite(limit)) {
    throw new Error(`invalid forecast options: limit ${limit}, horizon ${horizonMs} ms`);
  }

  // seasonal fit: A = sum w x x' (packed), B = sum w x y
  const A = new Float64Array(NA);
  const B = new Float64Array(P);
  // trend regressions, T sums each (time in days from the newest point)
  const R = new Float64Array(K * T);
  // residuals of each trend window at the scale of an evaluation interval (see the module comment)
  const RQ = new Float64Array(K * Q);
  // the points since the last evaluation: count, sum of adjusted values, sum of (ts - evalMs)
  const bucket = new Float64Array(3);
  // seasonal coefficients of the last evaluation (kept in snapshots: between evaluations they are reused)
  const beta0 = new Float64Array(P);
  let firstMs = NaN;
  let lastMs = NaN;
  // smoothed crossing time (NaN while none is predicted); 1 while a score is being raised
  let settledMs = NaN;
  let raised = 0;
  // the last evaluation: when, whether the seasonal fit was usable, and what it said
  let evalMs = NaN;
  let seasonalOk = 0;
  const cached = new Float64Array(CACHED);
  const confirmK = Math.max(0, TREND_HALF_LIVES_MS.indexOf(CONFIRM_HALF_LIFE_MS));

  if (snapshot) {
    const r = new SnapshotReader(snapshot, FORECAST_SNAPSHOT_KIND, [SNAPSHOT_VERSION, SNAPSHOT_VERSION_NO_RESIDUALS], 'forecast');
    r.f64Array(A);
    r.f64Array(B);
    r.f64Array(R);
    // a version-2 state has no residual sums: they start empty (the interval is narrow until they fill)
    if (r.version === SNAPSHOT_VERSION) {
      r.f64Array(RQ);
      r.f64Array(bucket);
    }
    firstMs = r.f64();
    lastMs = r.f64();
    settledMs = r.f64();
    raised = r.f64();
    evalMs = r.f64();
    seasonalOk = r.f64();
    r.f64Array(beta0);
    r.f64Array(cached);
    r.end();
  }

  // scratch, reused for every point
  const beta = beta0;

  /** sin/cos of k * phase for k = 1..HARMONICS into harm[2k], harm[2k+1] (Chebyshev recurrence) */
  const harmonics = (s1: number, c1: number) => {
    harm[2] = s1;
    harm[3] = c1;
    for (let k = 2; k <= HARMONICS; k++) {
      const sp = harm[2 * k - 2]!;
      const cp = harm[2 * k - 1]!;
      harm[2 * k] = sp * c1 + cp * s1;
      harm[2 * k + 1] = cp * c1 - sp * s1;
    }
  };
  /** the fitted season for the harmonics in `harm` */
  const season = (): number => {
    let s = 0;
    for (let k = 1; k <= HARMONICS; k++) s += beta[2 * k]! * harm[2 * k]! + beta[2 * k + 1]! * harm[2 * k + 1]!;
    return s;
  };

  /** Cholesky of A (+ a tiny ridge); false when A is not positive definite (too little data) */
  const factor = (): boolean => {
    const ridge = 1e-9 * A[idx(0, 0)]!;
    for (let i = 0; i < P; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[idx(i, j)]! + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) s -= L[i * P + k]! * L[j * P + k]!;
        if (i === j) {
          if (!(s > 0)) return false;
          L[i * P + i] = Math.sqrt(s);
        } else L[i * P + j] = s / L[j * P + j]!;
      }
    }
    return true;
  };
  const solve = (v: Float64Array) => {
    for (let i = 0; i < P; i++) {
      let s = v[i]!;
      for (let k = 0; k < i; k++) s -= L[i * P + k]! * v[k]!;
      v[i] = s / L[i * P + i]!;
    }
    for (let i = P - 1; i >= 0; i--) {
      let s = v[i]!;
      for (let k = i + 1; k < P; k++) s -= L[k * P + i]! * v[k]!;
      v[i] = s / L[i * P + i]!;
    }
  };

  /** the band's half-width `tau` days ahead: INTERVAL_Z standard deviations of the fitted trend there */
  const bandAt = (tauDays: number): number => INTERVAL_Z * Math.sqrt(bandV0 + bandV1 * (tauDays - bandU) * (tauDays - bandU));

  /**
   * The first times in [now, now + maxMs] at which trend + season reaches the limit (the estimate),
   * and at which it does so with the trend moved by {@link bandAt} towards the limit (the early
   * end) and away from it (the late end), into `crossed`; NaN where not reached. One pass serves
   * all three: the season is evaluated once per step.
   */
  const crossings = (nowMs: number, level: number, slopePerDay: number, maxMs: number): void => {
    crossed.fill(NaN);
    let amp = 0;
    for (let k = 1; k <= HARMONICS; k++) amp += Math.hypot(beta[2 * k]!, beta[2 * k + 1]!);
    const maxDays = maxMs / DAY_MS;
    const trendEnd = level + slopePerDay * maxDays;
    // even the seasonal peak on the best trend, moved by the widest band, never reaches the limit: no search needed
    if (Math.max(sign * level, sign * trendEnd) + amp + bandAt(maxDays) < sign * limit) return;
    const phase0 = phaseOf(nowMs);
    harmonics(Math.sin(phase0), Math.cos(phase0));
    const gap0 = sign * (level + season() - limit);
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
      const gap = sign * (level + (slopePerDay * n) / STEPS_PER_DAY + season() - limit);
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
  };

  /** the confirming window's slope points to the limit, significantly */
  const confirmed = (): boolean => {
    const o = confirmK * T;
    const s0 = R[o]!;
    const s1 = R[o + 1]!;
    const det = s0 * R[o + 2]! - s1 * s1;
    if (!(det > 0)) return false;
    const b = (s0 * R[o + 4]! - s1 * R[o + 3]!) / det;
    const a = (R[o + 3]! - b * s1) / s0;
    const sse = Math.max(0, R[o + 5]! - a * R[o + 3]! - b * R[o + 4]!);
    const nEff = (s0 * s0) / R[o + 6]!;
    if (nEff < MIN_WINDOW_POINTS) return false;
    const se = Math.sqrt(((sse / (s0 * (1 - 2 / nEff))) * (R[o + 6]! / s0) * s0) / det);
    return sign * b >= minSlopeT * se;
  };

  /**
   * Closes the bucket of points since the last evaluation: its mean residual from each trend
   * window's current fit (scaled by the square root of its point count, so white noise gives the
   * point variance whatever the bucket size) goes into that window's residual sums.
   */
  const residuals = (nowMs: number, prevEvalMs: number) => {
    const n = bucket[0]!;
    const dtMs = nowMs - prevEvalMs;
    // mean time of the bucket, days before now
    const u = n > 0 && Number.isFinite(dtMs) ? (bucket[2]! / n - dtMs) / DAY_MS : 0;
    const mean = n > 0 ? bucket[1]! / n : 0;
    for (let k = 0; k < K; k++) {
      const q = k * Q;
      if (Number.isFinite(dtMs)) {
        const dk = Math.pow(0.5, dtMs / TREND_HALF_LIVES_MS[k]!);
        RQ[q] = RQ[q]! * dk;
        RQ[q + 1] = RQ[q + 1]! * dk;
        RQ[q + 2] = RQ[q + 2]! * dk;
      }
      const o = k * T;
      const s0 = R[o]!;
      const s1 = R[o + 1]!;
      const det = s0 * R[o + 2]! - s1 * s1;
      if (n === 0 || !(det > 0) || s0 < 4) {
        RQ[q + 3] = 0;
        continue;
      }
      const b = (s0 * R[o + 4]! - s1 * R[o + 3]!) / det;
      const a = (R[o + 3]! - b * s1) / s0;
      const r = Math.sqrt(n) * (mean - a - b * u);
      RQ[q] = RQ[q]! + 1;
      RQ[q + 1] = RQ[q + 1]! + r * r;
      RQ[q + 2] = RQ[q + 2]! + r * RQ[q + 3]!;
      RQ[q + 3] = r;
    }
    bucket.fill(0);
  };

  /**
   * Sets the band of the crossing search from trend window `k` (point residual variance
   * `sigma2`): the variance of its weighted mean and slope, inflated by the ratio of the
   * residuals' long-run variance (from the bucket residuals and their lag-1 autocorrelation, as
   * for an AR(1)) to the point variance, never below 1.
   */
  const setBand = (k: number, sigma2: number, slope: number) => {
    const o = k * T;
    const s0 = R[o]!;
    const s1 = R[o + 1]!;
    const det = s0 * R[o + 2]! - s1 * s1;
    const w2 = R[o + 6]!;
    const q = k * Q;
    const bucketVar = RQ[q]! > 0 ? RQ[q + 1]! / RQ[q]! : 0;
    const rho = RQ[q + 1]! > 0 ? Math.min(MAX_RESIDUAL_RHO, Math.max(0, RQ[q + 2]! / RQ[q + 1]!)) : 0;
    const inflation = sigma2 > 0 ? Math.max(1, (bucketVar * (1 + rho)) / (1 - rho) / sigma2) : 1;
    let amp = 0;
    for (let h = 1; h <= HARMONICS; h++) amp += Math.hypot(beta[2 * h]!, beta[2 * h + 1]!);
    bandV0 = (inflation * sigma2 * w2) / (s0 * s0) + (SEASON_UNCERTAINTY * amp) ** 2;
    bandV1 = (inflation * sigma2 * w2) / det + (SLOPE_UNCERTAINTY * slope) ** 2;
    bandU = s1 / s0;
  };

  const OUT_FIELDS = ['score', 'crossingMs', 'lowMs', 'highMs', 'fitted', 'slopePerDay', 'slopeSePerDay', 'windowMs'] as const;
  const toCache = (out: Forecast): Forecast => {
    for (let i = 0; i < CACHED; i++) cached[i] = out[OUT_FIELDS[i]!];
    return out;
  };
  const fromCache = (out: Forecast): Forecast => {
    for (let i = 0; i < CACHED; i++) out[OUT_FIELDS[i]!] = cached[i]!;
    return out;
  };

  const api: Forecaster = {
    update(tsMs, value, out = emptyForecast()) {
      out.score = 0;
      out.crossingMs = NaN;
      out.lowMs = NaN;
      out.highMs = NaN;
      out.fitted = NaN;
      out.slopePerDay = 0;
      out.slopeSePerDay = NaN;
      out.windowMs = NaN;
      // the hot path never throws on bad data: a non-finite or late point is skipped
      if (!Number.isFinite(value) || !Number.isFinite(tsMs) || tsMs < lastMs) return out;
      if (Number.isNaN(firstMs)) firstMs = tsMs;
      if (!Number.isNaN(lastMs) && tsMs > lastMs) {
        const dtMs = tsMs - lastMs;
        const d = dtMs / DAY_MS;
        // re-centre the time column on the new point (u' = u - d), then decay
        A[idx(1, 1)] = A[idx(1, 1)]! - 2 * d * A[idx(0, 1)]! + d * d * A[idx(0, 0)]!;
        for (let j = 0; j < P; j++) if (j !== 1) A[idx(1, j)] = A[idx(1, j)]! - d * A[idx(0, j)]!;
        B[1] = B[1]! - d * B[0]!;
        // series arrive at a steady interval: the decay factors are computed once per new interval
        if (dtMs !== decayDtMs) {
          decayDtMs = dtMs;
          decaySeason = Math.pow(0.5, dtMs / SEASON_HALF_LIFE_MS);
          for (let k = 0; k < K; k++) decayTrend[k] = Math.pow(0.5, dtMs / TREND_HALF_LIVES_MS[k]!);
        }
        const ds = decaySeason;
        for (let i = 0; i < NA; i++) A[i] = A[i]! * ds;
        for (let i = 0; i < P; i++) B[i] = B[i]! * ds;
        for (let k = 0; k < K; k++) {
          const o = k * T;
          const dk = decayTrend[k]!;
          const s0 = R[o]!;
          const s1 = R[o + 1]!;
          R[o] = s0 * dk;
          R[o + 1] = (s1 - d * s0) * dk;
          R[o + 2] = (R[o + 2]! - 2 * d * s1 + d * d * s0) * dk;
          R[o + 4] = (R[o + 4]! - d * R[o + 3]!) * dk;
          R[o + 3] = R[o + 3]! * dk;
          R[o + 5] = R[o + 5]! * dk;
          R[o + 6] = R[o + 6]! * dk * dk;
        }
      }
      lastMs = tsMs;

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
      let pos = 0;
      for (let i = 0; i < P; i++) {
        const xi = x[i]!;
        if (xi === 0) {
          pos += P - i;
          continue;
        }
        for (let j = i; j < P; j++, pos++) A[pos] = A[pos]! + xi * x[j]!;
        B[i] = B[i]! + xi * value;
      }
      const history = tsMs - firstMs;
      const due = Number.isNaN(evalMs) || tsMs - evalMs >= EVAL_EVERY_MS;
      if (due) {
        seasonalOk = history >= minHistoryMs && factor() ? 1 : 0;
        if (seasonalOk === 1) {
          beta.set(B);
          solve(beta);
        } else beta.fill(0);
      }
      // the trend windows start with the seasonal fit: a day of unadjusted data would show the
      // daily pattern as a trend
      if (seasonalOk !== 1) {
        if (due) {
          evalMs = tsMs;
          cached.fill(NaN);
          cached[0] = 0;
          cached[5] = 0;
        }
        return out;
      }
      // (harm still holds the harmonics of tsMs)
      const seasonNow = season();
      const adjusted = value - seasonNow;
      for (let k = 0; k < K; k++) {
        const o = k * T;
        R[o] = R[o]! + 1;
        R[o + 3] = R[o + 3]! + adjusted;
        R[o + 5] = R[o + 5]! + adjusted * adjusted;
        R[o + 6] = R[o + 6]! + 1;
      }
      bucket[0] = bucket[0]! + 1;
      bucket[1] = bucket[1]! + adjusted;
      bucket[2] = bucket[2]! + (Number.isNaN(evalMs) ? 0 : tsMs - evalMs);
      if (!due) return fromCache(out);
      const prevEvalMs = evalMs;
      evalMs = tsMs;
      residuals(tsMs, prevEvalMs);

      // Lepski: the longest window whose slope agrees with every shorter one
      let level = NaN;
      let slope = 0;
      let se = NaN;
      let windowMs = NaN;
      let chosen = -1;
      let chosenSigma2 = NaN;
      let prevSlopes = 0; // how many shorter windows are in `agreed*` below
      for (let k = 0; k < K; k++) {
        const o = k * T;
        const s0 = R[o]!;
        const s1 = R[o + 1]!;
        const s2 = R[o + 2]!;
        const sx = R[o + 3]!;
        const sux = R[o + 4]!;
        const det = s0 * s2 - s1 * s1;
        if (!(det > 0) || s0 < 4) break;
        const b = (s0 * sux - s1 * sx) / det;
        const a = (sx - b * s1) / s0;
        const sse = Math.max(0, R[o + 5]! - a * sx - b * sux);
        const nEff = (s0 * s0) / R[o + 6]!;
        if (nEff < MIN_WINDOW_POINTS) break;
        const sigma2 = sse / (s0 * (1 - 2 / nEff));
        const seK = Math.sqrt((sigma2 * (R[o + 6]! / s0) * s0) / det);
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
      if (Number.isNaN(level)) return toCache(out);
      out.fitted = level + seasonNow;
      out.slopePerDay = slope;
      out.slopeSePerDay = se;
      out.windowMs = windowMs;

      const beyond = sign * (out.fitted - limit) >= 0;
      // a trend pointing away from the limit, or too uncertain to believe, predicts nothing
      if (!beyond && (!(sign * slope >= minSlopeT * se) || !confirmed())) {
        settledMs = NaN;
        raised = 0;
        return toCache(out);
      }
      const maxMs = SEARCH_HORIZONS * horizonMs;
      setBand(chosen, chosenSigma2, slope);
      crossings(tsMs, level, slope, maxMs);
      const at = crossed[0]!;
      if (Number.isNaN(at)) {
        settledMs = NaN;
        raised = 0;
        return toCache(out);
      }
      // a trend that has just bent gives estimates that still move fast: the estimate must have
      // settled (agree with its own recent smoothed value) before it raises a score
      // smoothing over the time since the last evaluation (evaluations are EVAL_EVERY_MS apart)
      const a = Number.isNaN(settledMs) || Number.isNaN(prevEvalMs) ? 1 : 1 - Math.pow(0.5, (tsMs - prevEvalMs) / SETTLE_HALF_LIFE_MS);
      settledMs = Number.isNaN(settledMs) ? at : settledMs + a * (at - settledMs);
      const settled = beyond || Math.abs(at - settledMs) <= SETTLE_TOLERANCE * Math.max(0, at - tsMs);
      out.crossingMs = at;
      const early = crossed[1]!;
      const late = crossed[2]!;
      out.lowMs = Number.isNaN(early) ? at : early;
      out.highMs = Number.isNaN(late) ? Infinity : late;
      const remaining = at - tsMs;
      // once raised, the score stays while the crossing stays within the horizon (no flapping)
      if (remaining <= horizonMs && (settled || raised === 1)) {
        out.score = 0.5 + 0.5 * (1 - remaining / horizonMs);
        raised = 1;
      } else raised = 0;
      return toCache(out);
    },
    snapshot() {
      const w = new SnapshotWriter(FORECAST_SNAPSHOT_KIND, SNAPSHOT_VERSION, STATE_DOUBLES * 8);
      w.f64Array(A);
      w.f64Array(B);
      w.f64Array(R);
      w.f64Array(RQ);
      w.f64Array(bucket);
      w.f64(firstMs);
      w.f64(lastMs);
      w.f64(settledMs);
      w.f64(raised);
      w.f64(evalMs);
      w.f64(seasonalOk);
      w.f64Array(beta);
      w.f64Array(cached);
      return w.finish();
    },
    get stateBytes() {
      // sums, residual sums, seasonal coefficients, cached output and scalars, plus the 7 arrays that hold them
      return STATE_DOUBLES * 8 + 7 * 64;
    },
  };
  return api;
}
