/**
 * Seasonal baseline: a streaming, robust, time-of-day and day-of-week aware anomaly detector for
 * one series, small enough to keep one per active series (about 1 KB of heap; no sample buffers).
 *
 * Model: expected(t) = usual(t) + offset, judged against scale(t).
 *
 * - `usual(t)` is a profile of 24 hour-of-day buckets for weekdays and 24 for weekends (48 in
 *   all), read by linear interpolation between bucket centres (hh:30), so an 8:00-9:00 ramp is
 *   followed smoothly instead of as a staircase. A Monday-morning peak is learned by the weekday
 *   9:00 bucket; the same value on a Sunday at 3:00 meets the weekend 3:00 bucket and stands out.
 *   Each bucket is an exponentially weighted average of the (cleaned) values seen at its hour,
 *   with a memory of `seasonalMemoryHours` hours of that bucket's data (about eight weekdays for
 *   a weekday hour); until it has that much it is a plain average. A longer memory gives a steadier
 *   scale (fewer noise bursts judged as surprise) and keeps an incident of a few days from becoming
 *   "usual" (the offset below follows today's level meanwhile); NAB scores a memory of 4 about one
 *   point lower and anything from 8 to 48 within 0.2 points; a new normal stops scoring within
 *   about a week (drift.test.ts).
 * - `offset` is "today compared with usual": an exponentially weighted average of
 *   value - usual(t) with a time constant of hours (`levelTauMs`). A sudden level shift is flagged
 *   when it happens and becomes the new normal within hours here (and over days in the profile).
 *   The offset learns from the profile, never the profile from the offset: a Holt-Winters level
 *   and seasonal that learn from each other let a fast level soak up the daily cycle with a lag.
 * - `scale(t)` is a per-bucket exponentially weighted mean absolute one-step-ahead error
 *   (x 1.2533, the normal-consistent factor), so night-time and day-time noise are judged apart.
 * - Robustness without sample buffers (after Gelper, Fried & Croux 2010, "Robust forecasting with
 *   exponential and Holt-Winters smoothing"): every update uses the cleaned observation
 *   expected + scale * psi(z), psi = Huber clip at {@link HUBER_CLIP_SIGMAS}, so one outlier moves
 *   the model by a bounded amount; the scale update clips |residual| at {@link SCALE_CLIP_SIGMAS}.
 * - A bucket with little data is blended with a prior by its maturity (hours of data seen /
 *   {@link BUCKET_MATURE_HOURS}): the same hour of the other day class (else the global level) for
 *   the usual value, and the global residual scale x {@link UNSEEN_SCALE_INFLATION} for the scale.
 * - All rates are in event time: each point stands for the time since the previous point
 *   (capped at {@link MAX_STEP_MS}), so dense and sparse series learn at the same pace in hours,
 *   and irregular timestamps and gaps need no special handling. The wall clock is never read.
 *   Time of day and weekends are UTC unless `utcOffsetMinutes` says otherwise.
 *
 * Score: z = (observed - expected) / max(scale, floors); score = 1 - exp(-max(0, |z| - zFloor) /
 * zSoftness): |z| up to zFloor (3 sigmas) scores exactly 0, so noise costs nothing downstream,
 * and large deviations approach 1. Direction is the sign of z ('none' when the score is 0).
 *
 * Warm-up: the score is 0 until the series spans `warmupMs` (one day) and has `warmupPoints`
 * (24) points; during warm-up updates are not clipped, so the first day is learned as it is.
 *
 * Memory: 7 float64 scalars and 3 x 48 float32 bucket values (profile, scale, hours seen), 79
 * doubles in all (the float32 values two per double), in the detector's one state array (see
 * snapshot.ts); a detector of its own is that array and one small object, 728 bytes of heap.
 * float32 keeps 7 significant digits, plenty for a baseline; a snapshot copies the bits, so a
 * restored detector continues exactly. The algorithm itself is a {@link SeasonalModel}, one per
 * factory, shared by every series and by the drift and combined detectors that embed it.
 */
import { NON_NEGATIVE, POSITIVE, checkNumbers, withDefaults } from './options.ts';
import type { DirectionChoice } from '../config/types.ts';
import type { AnomalyScore, Direction } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { SnapshotError, SnapshotKind, SnapshotReader, SnapshotWriter, detectorHeapBytes, zeroState } from './snapshot.ts';
import type { DetectorState } from './snapshot.ts';

// ---- constants (named so that later tuning has one place to look) ----

/** One hour, the width of a seasonal bucket. */
export const HOUR_MS = 3_600_000;
/** Hour-of-day buckets per day class. */
export const HOURS_PER_DAY = 24;
/**
 * Longest time one point may stand for. After a gap, the first point counts as at most one bucket
 * width, so a single point after a weekend of silence cannot rewrite a bucket or the level.
 */
export const MAX_STEP_MS = HOUR_MS;
/**
 * Below this many time constants, 1 - exp(-x) is computed by its cubic Taylor polynomial (relative
 * error under 4e-7, which is nothing for a learning rate, and no Math.exp on the hot path).
 */
export const SERIES_GAIN_LIMIT = 0.02;
/** Sampling interval assumed for the first point, before any interval has been seen. */
export const DEFAULT_INTERVAL_MS = 60_000;
/** Gain of the running typical sampling interval (used for points with duplicate timestamps). */
export const INTERVAL_GAIN = 0.1;
/** E|X - mu| = sigma * sqrt(2/pi) for a normal X; this converts mean absolute error to a sigma. */
export const MAD_TO_SIGMA = 1.2533141373155003;
/** Huber psi clip for location updates, in sigmas: a 10-sigma outlier moves the model like a 2-sigma one. */
export const HUBER_CLIP_SIGMAS = 2;
/** |residual| clip for scale updates, in sigmas: a lone outlier can at most raise the scale slowly. */
export const SCALE_CLIP_SIGMAS = 3;
/**
 * Bucket maturity: a bucket that has seen W hours of data is trusted with weight min(1, W / this)
 * and its prior with the rest. Two hours = two visits of that hour (two days for a weekday hour,
 * one weekend for a weekend hour). A ramp that reaches 1 matters: a shrinkage that never ends
 * (W / (W + c)) keeps pulling night-time buckets towards the daily mean and biases them.
 */
export const BUCKET_MATURE_HOURS = 2;
/** A bucket's accumulated hours saturate here (keeps float32 exact and bounded). */
export const BUCKET_MAX_HOURS = 10_000;
/** The scale assumed for an unseen bucket is the global residual scale times this (be cautious). */
export const UNSEEN_SCALE_INFLATION = 2;
/** Time constant of the global level and residual scale (the priors of unseen buckets). */
export const GLOBAL_TAU_MS = 24 * HOUR_MS;
/**
 * Absolute scale floor that keeps a constant series from dividing by zero. Tiny, so that it never
 * matters for series of small values (1e-12 is a fine unit), yet any |value| up to
 * {@link MAX_ABS_VALUE} divided by it stays a finite number.
 */
export const ABS_SCALE_EPSILON = 1e-250;
/** Values with a larger magnitude are treated as invalid (skipped), like NaN and Infinity. */
export const MAX_ABS_VALUE = 1e30;
/** 1970-01-01 (day 0 of the epoch) was a Thursday; day-of-week 0 = Sunday. */
const EPOCH_DAY_OF_WEEK = 4;

/** Default options; see {@link SeasonalBaselineOptions} for what each one means. */
export const SEASONAL_DEFAULTS = Object.freeze({
  utcOffsetMinutes: 0,
  weekly: true,
  direction: 'both',
  warmupMs: 24 * HOUR_MS,
  warmupPoints: 24,
  levelTauMs: 3 * HOUR_MS,
  seasonalMemoryHours: 8,
  zFloor: 3,
  zSoftness: 2,
  minScale: 0,
  relativeScaleFloor: 0.01,
  reuseResult: false,
});

/** Options of {@link createSeasonalBaseline}. Every field has a default in {@link SEASONAL_DEFAULTS}. */
export interface SeasonalBaselineOptions {
  /** offset of the series' local time from UTC, for time-of-day and weekends (default 0 = UTC) */
  utcOffsetMinutes?: number;
  /** separate weekday and weekend profiles (default true); false = one daily profile */
  weekly?: boolean;
  /** which deviations may score: 'up', 'down' or 'both' (default); the other direction scores 0 */
  direction?: DirectionChoice;
  /** no score (0) until the series spans this much event time (default one day) */
  warmupMs?: number;
  /** ... and has at least this many points (default 24) */
  warmupPoints?: number;
  /** time constant of today's offset from usual: how fast a level shift stops scoring (default 3 h) */
  levelTauMs?: number;
  /**
   * memory of a seasonal bucket, in hours of data seen by that bucket (default 8, i.e. about the
   * last eight weekdays for a weekday hour); before that much data the bucket is a plain average
   */
  seasonalMemoryHours?: number;
  /** |z| at or below this scores 0 (default 3 sigmas) */
  zFloor?: number;
  /** how fast the score rises above zFloor: score = 1 - exp(-(|z| - zFloor) / zSoftness) (default 2) */
  zSoftness?: number;
  /** absolute scale floor in the series' unit (default 0); e.g. 1 for counts */
  minScale?: number;
  /** scale floor relative to |expected| (default 0.01): changes under ~3% never score */
  relativeScaleFloor?: number;
  /**
   * when true, `update()` returns the same object every time, overwritten by the next call (no
   * allocation on the hot path; copy it to keep it). Default false: a fresh object per call.
   */
  reuseResult?: boolean;
}

/** Options with every default filled in, validated and frozen; share one between many detectors. */
export type ResolvedSeasonalOptions = Readonly<Required<SeasonalBaselineOptions>> & {
  /** 48 with weekly profiles, else 24 */
  readonly buckets: number;
  readonly offsetMs: number;
};

/** A seasonal baseline detector. */
export interface SeasonalBaseline extends SeriesDetector {
  /** true once warm-up is over and scores can be non-zero (it never turns false again) */
  readonly warm: boolean;
  /** scores one point into `out` (no allocation) and returns `out` */
  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore;
}

const SNAPSHOT_VERSION = 1;

/** Heap of one AnomalyScore object with its four boxed numbers (counted when a detector keeps one, e.g. with reuseResult). */
export const RESULT_OBJECT_BYTES = 136;

/** a zeroed AnomalyScore, always built with the same shape (one hidden class on the hot path) */
export function emptyScore(detector: string): AnomalyScore {
  return { score: 0, direction: 'none', expected: 0, observed: 0, deviation: 0, detector };
}

/** squashes |z| into [0, 1): 0 at or below `floor`, rising with `softness` */
export function squash(absZ: number, floor: number, softness: number): number {
  const excess = absZ - floor;
  // the `!(>)` form also maps NaN to 0
  if (!(excess > 0)) return 0;
  return 1 - Math.exp(-excess / softness);
}

/** 1 - exp(-x) for x >= 0: the gain of an exponential average over a step of x time constants */
export function stepGain(x: number): number {
  if (x < SERIES_GAIN_LIMIT) return x * (1 - x * (0.5 - x / 6));
  return 1 - Math.exp(-x);
}

/** applies the direction option: a deviation the rule does not watch scores 0 */
export function directionAllows(choice: DirectionChoice, deviation: number): boolean {
  return choice === 'both' || (choice === 'up' ? deviation > 0 : deviation < 0);
}

/** the reported direction: 'none' when the score is 0, otherwise the sign of the deviation */
export function directionOf(score: number, deviation: number): Direction {
  if (score <= 0) return 'none';
  return deviation > 0 ? 'up' : 'down';
}

/** true for a value a detector can learn from (finite and within +-MAX_ABS_VALUE) */
export function usableValue(value: number): boolean {
  return value <= MAX_ABS_VALUE && value >= -MAX_ABS_VALUE;
}

const resolvedSet = new WeakSet<object>();

/** Validates options and fills in defaults; throws RangeError naming the bad option. */
export function resolveSeasonalOptions(options: SeasonalBaselineOptions | ResolvedSeasonalOptions = {}): ResolvedSeasonalOptions {
  if (resolvedSet.has(options)) return options as ResolvedSeasonalOptions;
  const o = withDefaults<Record<string, unknown>>(SEASONAL_DEFAULTS, options);
  checkNumbers('seasonal baseline', o, ['levelTauMs', 'seasonalMemoryHours', 'zSoftness'], POSITIVE);
  checkNumbers('seasonal baseline', o, ['warmupMs', 'warmupPoints', 'zFloor', 'minScale', 'relativeScaleFloor'], NON_NEGATIVE);
  const offset = o.utcOffsetMinutes;
  if (typeof offset !== 'number' || !Number.isFinite(offset) || Math.abs(offset) > 24 * 60) {
    throw new RangeError(`seasonal baseline option utcOffsetMinutes must be within +-1440, got ${String(offset)}`);
  }
  if (o.direction !== 'up' && o.direction !== 'down' && o.direction !== 'both') {
    throw new RangeError(`seasonal baseline option direction must be up, down or both, got ${String(o.direction)}`);
  }
  o.buckets = HOURS_PER_DAY * (o.weekly === false ? 1 : 2);
  o.offsetMs = offset * 60_000;
  const resolved = Object.freeze(o) as ResolvedSeasonalOptions;
  resolvedSet.add(resolved);
  return resolved;
}

// The event-time clock of a streaming detector, four slots of its state: the data's timestamps
// are its only clock.
/** slot of the first timestamp, relative to the clock's first slot */
export const CLOCK_FIRST_TS = 0;
/** slot of the last timestamp */
export const CLOCK_LAST_TS = 1;
/** slot of the points counted */
export const CLOCK_POINTS = 2;
/** slot of the running typical sampling interval */
export const CLOCK_DT_TYPICAL = 3;
/** Slots of an event clock. */
export const CLOCK_SLOTS = 4;

/** sets a fresh clock at `s[at]` (no points, the default typical interval) */
export function initClock(s: DetectorState, at: number): void {
  s[at + CLOCK_FIRST_TS] = 0;
  s[at + CLOCK_LAST_TS] = 0;
  s[at + CLOCK_POINTS] = 0;
  s[at + CLOCK_DT_TYPICAL] = DEFAULT_INTERVAL_MS;
}

/**
 * Advances the clock at `s[at]` by one point at `tsMs` (counting it) and returns the time the
 * point stands for: the gap since the previous point, capped at {@link MAX_STEP_MS}; for the first
 * point, a duplicate or a late timestamp, one typical interval (the clock does not move back).
 */
export function advanceClock(s: DetectorState, at: number, tsMs: number): number {
  const points = s[at + CLOCK_POINTS] as number;
  s[at + CLOCK_POINTS] = points + 1;
  const dtTypical = s[at + CLOCK_DT_TYPICAL] as number;
  if (points === 0) {
    s[at + CLOCK_FIRST_TS] = tsMs;
    s[at + CLOCK_LAST_TS] = tsMs;
    return dtTypical;
  }
  const gap = tsMs - (s[at + CLOCK_LAST_TS] as number);
  if (!(gap > 0)) return dtTypical;
  const dtMs = gap < MAX_STEP_MS ? gap : MAX_STEP_MS;
  s[at + CLOCK_DT_TYPICAL] = points === 1 ? dtMs : dtTypical + INTERVAL_GAIN * (dtMs - dtTypical);
  s[at + CLOCK_LAST_TS] = tsMs;
  return dtMs;
}

/** true once the clock at `s[at]` has counted `points` points spanning `spanMs` (never false again) */
export function clockHasSeen(s: DetectorState, at: number, points: number, spanMs: number): boolean {
  return (s[at + CLOCK_POINTS] as number) >= points && (s[at + CLOCK_LAST_TS] as number) - (s[at + CLOCK_FIRST_TS] as number) >= spanMs;
}

/** writes the clock at `s[at]` (4 float64: first, last, points, typical interval) */
export function writeClock(w: SnapshotWriter, s: DetectorState, at: number): void {
  for (let k = 0; k < CLOCK_SLOTS; k++) w.f64(s[at + k] as number);
}

/** reads a clock written by {@link writeClock} into `s[at]` */
export function readClock(r: SnapshotReader, s: DetectorState, at: number): void {
  for (let k = 0; k < CLOCK_SLOTS; k++) s[at + k] = r.f64();
}

// ---- the state of one seasonal baseline, slots relative to its first slot ----
/** today compared with usual: EW average of value - usual(t) */
const OFFSET = 0;
/** EW level of all values (prior of unseen buckets) */
const GLOBAL_LEVEL = 1;
/** EW robust scale of all one-step errors (prior of unseen buckets) */
const GLOBAL_SCALE = 2;
/** the event clock (CLOCK_SLOTS slots) */
const CLOCK = 3;
/** From here, per bucket i, one double: the usual value and the robust scale, as float32 (see PAIR) */
const BUCKETS = CLOCK + CLOCK_SLOTS;
// ... then `buckets / 2` doubles of hours of data seen per bucket (kernel-weighted, saturating),
// float32 two per double: bucket i at double i >> 1, half i & 1

/** Slots (doubles) of a seasonal baseline's state with `buckets` (24 or 48) buckets: 79 for weekly profiles. */
export function seasonalSlots(buckets: number): number {
  return BUCKETS + buckets + buckets / 2;
}

// Two float32 in one double: write the double into PAIR and read or write its halves through
// HALVES (the same 8 bytes), bit for bit as a Float32Array holds them. Such a double is never a
// NaN: its exponent bits are those of the float32 in the high half, which would have to be a NaN
// with payload bits that no arithmetic on these values makes (snapshot bytes are read as the
// canonical NaN), so storing it in the state array cannot canonicalise it and change the other
// half. The accesses are written out in the hot path rather than wrapped in helpers: a dozen
// small calls would use up TurboFan's inlining budget for `step` (measured: ~40% slower).
const PAIR = new Float64Array(1);
const HALVES = new Float32Array(PAIR.buffer);
/** half of a bucket's double that holds its usual value (the other holds its scale) */
const USUAL = 0;
const SCALE = 1;

/**
 * The seasonal baseline algorithm with one set of options, working on the state of any number of
 * series (each a slice of some detector's state array); one per factory. After {@link step}, its
 * `last*` fields describe that step (whichever series it was for) until the next step.
 */
export class SeasonalModel {
  /** doubles of state per series */
  readonly slots: number;
  /** the usual value (profile) at the last point's time; expected = usual + today's offset */
  lastUsual = 0;
  /** the scale (sigma) used for the last point, after floors */
  lastScale = 0;
  /** how much the last point's buckets trusted their own data (0 = all prior, 1 = mature) */
  lastMaturity = 0;
  /** what the last point was expected to be */
  lastExpected = 0;
  /** (observed - expected) / scale of the last point */
  lastZ = 0;
  /** score of the last point, direction option applied */
  lastScore = 0;
  /** whether warm-up was over at the last point */
  lastWarm = false;

  constructor(readonly o: ResolvedSeasonalOptions) {
    this.slots = seasonalSlots(o.buckets);
  }

  /** sets a fresh state at `s[at]` */
  init(s: DetectorState, at: number): void {
    for (let k = 0; k < this.slots; k++) s[at + k] = 0;
    initClock(s, at + CLOCK);
  }

  /** true once warm-up is over: scores can be non-zero (it never turns false again) */
  isWarm(s: DetectorState, at: number): boolean {
    return clockHasSeen(s, at + CLOCK, this.o.warmupPoints, this.o.warmupMs);
  }

  /** what a point that cannot be scored is reported to be expected at: the global level */
  fallbackExpected(s: DetectorState, at: number): number {
    return s[at + GLOBAL_LEVEL] as number;
  }

  /** bucket index of absolute (local) hour number k since the epoch */
  private bucketOf(k: number): number {
    const day = Math.floor(k / HOURS_PER_DAY);
    const hod = k - day * HOURS_PER_DAY;
    if (this.o.buckets === HOURS_PER_DAY) return hod;
    const d = day + EPOCH_DAY_OF_WEEK;
    const dow = d - 7 * Math.floor(d / 7);
    return dow === 0 || dow === 6 ? HOURS_PER_DAY + hod : hod;
  }

  /** hours of data bucket i has seen */
  private hoursSeen(s: DetectorState, at: number, i: number): number {
    PAIR[0] = s[at + BUCKETS + this.o.buckets + (i >> 1)] as number;
    return HALVES[i & 1] as number;
  }

  /**
   * the usual value of a bucket that is not yet mature (maturity `w` < 1, own value `own`):
   * blended with its prior, the same hour of the other day class (as mature as it is), else the
   * global level
   */
  private immatureUsual(s: DetectorState, at: number, i: number, w: number, own: number): number {
    let prior = s[at + GLOBAL_LEVEL] as number;
    if (this.o.buckets !== HOURS_PER_DAY) {
      const j = i < HOURS_PER_DAY ? i + HOURS_PER_DAY : i - HOURS_PER_DAY;
      let wj = this.hoursSeen(s, at, j) / BUCKET_MATURE_HOURS;
      wj = wj < 1 ? wj : 1;
      PAIR[0] = s[at + BUCKETS + j] as number;
      prior = wj * (HALVES[USUAL] as number) + (1 - wj) * prior;
    }
    return w * own + (1 - w) * prior;
  }

  /**
   * Scores the point, then learns from it; the results are in the `last*` fields. Returns false,
   * touching nothing, for a value or timestamp that cannot be used (NaN, infinite, beyond
   * {@link MAX_ABS_VALUE}).
   */
  step(s: DetectorState, at: number, tsMs: number, value: number): boolean {
    const o = this.o;
    // NaN fails both comparisons of usableValue; an infinite timestamp fails the subtraction test
    if (!usableValue(value) || !(tsMs - tsMs === 0)) return false;

    // ---- event time: how much time this point stands for ----
    const points = s[at + CLOCK + CLOCK_POINTS] as number;
    const dtMs = advanceClock(s, at + CLOCK, tsMs);
    if (points === 0) s[at + GLOBAL_LEVEL] = value;
    const n = points + 1;

    // ---- prediction: interpolate between the two nearest bucket centres (hh:30) ----
    const u = (tsMs + o.offsetMs) / HOUR_MS - 0.5;
    const k0 = Math.floor(u);
    const f = u - k0;
    const i0 = this.bucketOf(k0);
    // the next hour is in the same day class except after 23:00
    const i1 = i0 % HOURS_PER_DAY === HOURS_PER_DAY - 1 ? this.bucketOf(k0 + 1) : i0 + 1;
    // trust in each bucket's own estimates (hours seen / BUCKET_MATURE_HOURS, at most 1)
    const hoursAt = at + BUCKETS + o.buckets;
    PAIR[0] = s[hoursAt + (i0 >> 1)] as number;
    let w0 = (HALVES[i0 & 1] as number) / BUCKET_MATURE_HOURS;
    w0 = w0 < 1 ? w0 : 1;
    PAIR[0] = s[hoursAt + (i1 >> 1)] as number;
    let w1 = (HALVES[i1 & 1] as number) / BUCKET_MATURE_HOURS;
    w1 = w1 < 1 ? w1 : 1;
    // each bucket's usual value and scale, blended by maturity with their priors (the scale's:
    // the inflated global scale)
    const globalScale = s[at + GLOBAL_SCALE] as number;
    PAIR[0] = s[at + BUCKETS + i0] as number;
    let usual0 = HALVES[USUAL] as number;
    let scale0 = HALVES[SCALE] as number;
    PAIR[0] = s[at + BUCKETS + i1] as number;
    let usual1 = HALVES[USUAL] as number;
    let scale1 = HALVES[SCALE] as number;
    if (w0 < 1) {
      usual0 = this.immatureUsual(s, at, i0, w0, usual0);
      scale0 = w0 * scale0 + (1 - w0) * UNSEEN_SCALE_INFLATION * globalScale;
    }
    if (w1 < 1) {
      usual1 = this.immatureUsual(s, at, i1, w1, usual1);
      scale1 = w1 * scale1 + (1 - w1) * UNSEEN_SCALE_INFLATION * globalScale;
    }
    const usual = (1 - f) * usual0 + f * usual1;
    const offset = s[at + OFFSET] as number;
    const expected = usual + offset;
    let scale = (1 - f) * scale0 + f * scale1;
    const relFloor = o.relativeScaleFloor * (expected < 0 ? -expected : expected);
    if (scale < relFloor) scale = relFloor;
    if (scale < o.minScale) scale = o.minScale;
    if (scale < ABS_SCALE_EPSILON) scale = ABS_SCALE_EPSILON;
    const residual = value - expected;
    const z = residual / scale;

    // ---- score ----
    const warm =
      n >= o.warmupPoints && (s[at + CLOCK + CLOCK_LAST_TS] as number) - (s[at + CLOCK + CLOCK_FIRST_TS] as number) >= o.warmupMs;
    let score = 0;
    if (warm && directionAllows(o.direction, residual)) score = squash(z < 0 ? -z : z, o.zFloor, o.zSoftness);
    this.lastUsual = usual;
    this.lastScale = scale;
    this.lastMaturity = (1 - f) * w0 + f * w1;
    this.lastExpected = expected;
    this.lastZ = z;
    this.lastScore = score;
    this.lastWarm = warm;

    // ---- learn from the cleaned observation (Huber psi, once warm) ----
    let psiResidual = residual;
    let absForScale = residual < 0 ? -residual : residual;
    if (warm) {
      const clip = HUBER_CLIP_SIGMAS * scale;
      if (psiResidual > clip) psiResidual = clip;
      else if (psiResidual < -clip) psiResidual = -clip;
      const scaleClip = SCALE_CLIP_SIGMAS * scale;
      if (absForScale > scaleClip) absForScale = scaleClip;
    }
    const cleaned = expected + psiResidual;
    // early on plain averaging (gain 1/n), later the time-based exponential gain
    let offsetGain = stepGain(dtMs / o.levelTauMs);
    if (offsetGain * n < 1) offsetGain = 1 / n;
    s[at + OFFSET] = offset + offsetGain * (cleaned - usual - offset);
    let globalGain = stepGain(dtMs / GLOBAL_TAU_MS);
    if (globalGain * n < 1) globalGain = 1 / n;
    const globalLevel = s[at + GLOBAL_LEVEL] as number;
    s[at + GLOBAL_LEVEL] = globalLevel + globalGain * (cleaned - globalLevel);
    const scaleTarget = MAD_TO_SIGMA * absForScale;
    if (points > 0) s[at + GLOBAL_SCALE] = globalScale + globalGain * (scaleTarget - globalScale);

    // ---- the two buckets learn, each by its share of the point's time ----
    const stepHours = dtMs / HOUR_MS;
    for (let side = 0; side < 2; side++) {
      const i = side === 0 ? i0 : i1;
      const weightHours = side === 0 ? (1 - f) * stepHours : f * stepHours;
      if (!(weightHours > 0)) continue;
      const hk = hoursAt + (i >> 1);
      PAIR[0] = s[hk] as number;
      let h = (HALVES[i & 1] as number) + weightHours;
      if (h > BUCKET_MAX_HOURS) h = BUCKET_MAX_HOURS;
      HALVES[i & 1] = h;
      s[hk] = PAIR[0];
      let gain = stepGain(weightHours / o.seasonalMemoryHours);
      // h as computed, not as stored in float32 (the average of what was seen)
      const average = weightHours / h;
      if (gain < average) gain = average;
      const k = at + BUCKETS + i;
      PAIR[0] = s[k] as number;
      const p = HALVES[USUAL] as number;
      HALVES[USUAL] = p + gain * (cleaned - p);
      // the very first point has no residual to learn a scale from
      if (points > 0) {
        const sd = HALVES[SCALE] as number;
        HALVES[SCALE] = sd + gain * (scaleTarget - sd);
      }
      s[k] = PAIR[0];
    }
    return true;
  }

  /** float32 number k of the snapshot's bucket order: usual values, then scales, then hours seen */
  private snapshotF32(s: DetectorState, at: number, k: number): number {
    const buckets = this.o.buckets;
    if (k >= 2 * buckets) return this.hoursSeen(s, at, k - 2 * buckets);
    PAIR[0] = s[at + BUCKETS + (k % buckets)] as number;
    return HALVES[k < buckets ? USUAL : SCALE] as number;
  }

  private restoreF32(s: DetectorState, at: number, k: number, value: number): void {
    const buckets = this.o.buckets;
    const i = k % buckets;
    const d = at + BUCKETS + (k >= 2 * buckets ? buckets + (i >> 1) : i);
    PAIR[0] = s[d] as number;
    // any NaN is stored as the canonical one (see PAIR)
    HALVES[k >= 2 * buckets ? i & 1 : k < buckets ? USUAL : SCALE] = value === value ? value : NaN;
    s[d] = PAIR[0];
  }

  /** a seasonal baseline snapshot of the state at `s[at]` (also nested in drift and combined snapshots) */
  snapshot(s: DetectorState, at: number): Uint8Array {
    const buckets = this.o.buckets;
    const w = new SnapshotWriter(SnapshotKind.seasonal, SNAPSHOT_VERSION, 1 + 7 * 8 + 3 * buckets * 4);
    w.u8(buckets);
    w.f64(s[at + OFFSET] as number);
    w.f64(s[at + GLOBAL_LEVEL] as number);
    w.f64(s[at + GLOBAL_SCALE] as number);
    writeClock(w, s, at + CLOCK);
    for (let k = 0; k < 3 * buckets; k++) w.f32(this.snapshotF32(s, at, k));
    return w.finish();
  }

  /** restores the state at `s[at]` from {@link snapshot} bytes; throws {@link SnapshotError} */
  restore(s: DetectorState, at: number, bytes: Uint8Array): void {
    const r = new SnapshotReader(bytes, SnapshotKind.seasonal, [SNAPSHOT_VERSION], 'seasonal baseline');
    const buckets = r.u8();
    if (buckets !== this.o.buckets) {
      throw new SnapshotError(
        `invalid seasonal baseline snapshot: it has ${buckets} buckets but the options give ${this.o.buckets} (was "weekly" changed?)`,
      );
    }
    s[at + OFFSET] = r.f64();
    s[at + GLOBAL_LEVEL] = r.f64();
    s[at + GLOBAL_SCALE] = r.f64();
    readClock(r, s, at + CLOCK);
    for (let k = 0; k < 3 * buckets; k++) this.restoreF32(s, at, k, r.f32());
    r.end();
  }
}

/** Shared by every seasonal baseline detector of one factory. */
class SeasonalShared {
  readonly model: SeasonalModel;
  /** a fresh state, copied for each new detector */
  readonly template: DetectorState;

  constructor(readonly o: ResolvedSeasonalOptions) {
    this.model = new SeasonalModel(o);
    this.template = zeroState(this.model.slots);
    this.model.init(this.template, 0);
  }
}

class SeasonalBaselineDetector implements SeasonalBaseline {
  private readonly s: DetectorState;
  private result: AnomalyScore | undefined;

  constructor(
    private readonly shared: SeasonalShared,
    snapshot?: Uint8Array,
  ) {
    this.s = shared.template.slice();
    if (snapshot !== undefined) shared.model.restore(this.s, 0, snapshot);
  }

  get stateBytes(): number {
    return detectorHeapBytes(this.shared.model.slots) + (this.shared.o.reuseResult ? RESULT_OBJECT_BYTES : 0);
  }

  get warm(): boolean {
    return this.shared.model.isWarm(this.s, 0);
  }

  update(tsMs: number, value: number): AnomalyScore {
    let out: AnomalyScore;
    if (this.shared.o.reuseResult) out = this.result ??= emptyScore('seasonal');
    else out = emptyScore('seasonal');
    return this.updateInto(tsMs, value, out);
  }

  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore {
    const m = this.shared.model;
    out.observed = value;
    out.detector = 'seasonal';
    if (m.step(this.s, 0, tsMs, value)) {
      out.score = m.lastScore;
      out.direction = directionOf(m.lastScore, m.lastZ);
      out.expected = m.lastExpected;
      out.deviation = m.lastZ;
    } else {
      // bad data never throws and never touches the state
      out.score = 0;
      out.direction = 'none';
      out.expected = m.fallbackExpected(this.s, 0);
      out.deviation = 0;
    }
    return out;
  }

  snapshot(): Uint8Array {
    return this.shared.model.snapshot(this.s, 0);
  }
}

/**
 * Creates a seasonal baseline detector, fresh or restored from `snapshot` (bytes from
 * `snapshot()` of a detector with the same `weekly` option). Throws {@link SnapshotError} on
 * unusable bytes and RangeError on invalid options; `update()` itself never throws.
 */
export function createSeasonalBaseline(
  options: SeasonalBaselineOptions | ResolvedSeasonalOptions = {},
  snapshot?: Uint8Array,
): SeasonalBaseline {
  return new SeasonalBaselineDetector(new SeasonalShared(resolveSeasonalOptions(options)), snapshot);
}

/** A {@link DetectorFactory} of seasonal baselines with fixed options (validated here, once). */
export function seasonalFactory(options: SeasonalBaselineOptions = {}): DetectorFactory {
  const shared = new SeasonalShared(resolveSeasonalOptions(options));
  return { create: (snapshot?: Uint8Array) => new SeasonalBaselineDetector(shared, snapshot) };
}
