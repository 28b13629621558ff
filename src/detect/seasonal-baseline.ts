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
 *   with a memory of `seasonalMemoryHours` hours of that bucket's data (about four days for a
 *   weekday hour); until it has that much it is a plain average.
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
 * Memory: 7 float64 scalars and 3 x 48 float32 bucket values (profile, scale, hours seen), 632
 * bytes, plus the objects that hold them. float32 keeps 7 significant digits, plenty for a
 * baseline; a snapshot copies the bits, so a restored detector continues exactly.
 */
import type { DirectionChoice } from '../config/types.ts';
import type { AnomalyScore, Direction } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter, SnapshotError } from './snapshot.ts';

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
  seasonalMemoryHours: 4,
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
   * memory of a seasonal bucket, in hours of data seen by that bucket (default 4, i.e. about the
   * last four days for a weekday hour); before that much data the bucket is a plain average
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

/** A seasonal baseline, with read access to the parts of its last prediction. */
export interface SeasonalBaseline extends SeriesDetector {
  /** the usual value (profile) at the last point's time; expected = usual + today's offset */
  readonly lastSeasonal: number;
  /** the scale (sigma) used for the last point, after floors */
  readonly lastScale: number;
  /** how much the last point's buckets trusted their own data (0 = all prior, 1 = mature) */
  readonly lastMaturity: number;
  /** true once warm-up is over and scores can be non-zero (it never turns false again) */
  readonly warm: boolean;
  /** scores one point into `out` (no allocation) and returns `out` */
  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore;
}

/** float64 scalars of the state (plain fields: a small Float64Array costs V8 four times its data) */
const SCALAR_COUNT = 7;

const SNAPSHOT_VERSION = 1;

/**
 * Heap taken by one detector's objects on top of its state bytes: the detector object, its boxed
 * double fields, and the Float32Array with its buffer (V8 on Node 20, 64-bit, no pointer
 * compression; calibrated with `detect.bench.ts`, which prints the measured figure beside
 * `stateBytes`). Part of `stateBytes`, which aims to be honest.
 */
export const SEASONAL_OBJECT_OVERHEAD_BYTES = 420;
/** Heap of one AnomalyScore object (counted when a detector keeps one, e.g. with reuseResult). */
export const RESULT_OBJECT_BYTES = 100;

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
  const o: Record<string, unknown> = { ...SEASONAL_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) o[k] = v;
  for (const k of ['levelTauMs', 'seasonalMemoryHours', 'zSoftness']) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`seasonal baseline option ${k} must be a positive number, got ${String(v)}`);
    }
  }
  for (const k of ['warmupMs', 'warmupPoints', 'zFloor', 'minScale', 'relativeScaleFloor']) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`seasonal baseline option ${k} must be a non-negative number, got ${String(v)}`);
    }
  }
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

/** The event-time clock of a streaming detector: the data's timestamps are its only clock. */
export interface EventClock {
  firstTs: number;
  lastTs: number;
  points: number;
  /** running typical sampling interval */
  dtTypical: number;
}

/**
 * Advances `c` by one point at `tsMs` (counting it) and returns the time the point stands for:
 * the gap since the previous point, capped at {@link MAX_STEP_MS}; for the first point, a
 * duplicate or a late timestamp, one typical interval (the clock does not move back).
 */
export function advanceClock(c: EventClock, tsMs: number): number {
  const points = c.points;
  c.points = points + 1;
  if (points === 0) {
    c.firstTs = tsMs;
    c.lastTs = tsMs;
    return c.dtTypical;
  }
  const gap = tsMs - c.lastTs;
  if (!(gap > 0)) return c.dtTypical;
  const dtMs = gap < MAX_STEP_MS ? gap : MAX_STEP_MS;
  c.dtTypical = points === 1 ? dtMs : c.dtTypical + INTERVAL_GAIN * (dtMs - c.dtTypical);
  c.lastTs = tsMs;
  return dtMs;
}

class SeasonalBaselineDetector implements SeasonalBaseline {
  // the scalar state, written to snapshots in this order
  /** today compared with usual: EW average of value - usual(t) */
  private offset = 0;
  /** EW level of all values (prior of unseen buckets) */
  private globalLevel = 0;
  /** EW robust scale of all one-step errors (prior of unseen buckets) */
  private globalScale = 0;
  firstTs = 0;
  lastTs = 0;
  points = 0;
  /** running typical sampling interval */
  dtTypical = DEFAULT_INTERVAL_MS;
  /**
   * per bucket i: usual value at [i], robust scale at [buckets + i], hours of data seen
   * (kernel-weighted, saturating) at [2 * buckets + i]. One array: fewer objects per series.
   */
  private readonly b: Float32Array;
  private result: AnomalyScore | undefined;

  lastSeasonal = 0;
  lastScale = 0;
  lastMaturity = 0;
  warm = false;

  constructor(
    private readonly o: ResolvedSeasonalOptions,
    snapshot?: Uint8Array,
  ) {
    this.b = new Float32Array(3 * o.buckets);
    if (snapshot !== undefined) this.restore(snapshot);
  }

  get stateBytes(): number {
    return SCALAR_COUNT * 8 + this.b.byteLength + SEASONAL_OBJECT_OVERHEAD_BYTES + (this.o.reuseResult ? RESULT_OBJECT_BYTES : 0);
  }

  update(tsMs: number, value: number): AnomalyScore {
    let out: AnomalyScore;
    if (this.o.reuseResult) out = this.result ??= emptyScore('seasonal');
    else out = emptyScore('seasonal');
    return this.updateInto(tsMs, value, out);
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

  /** trust in bucket i's own estimates, 0..1 */
  private maturity(i: number): number {
    const w = (this.b[2 * this.o.buckets + i] as number) / BUCKET_MATURE_HOURS;
    return w < 1 ? w : 1;
  }

  /** bucket i's usual value, blended by maturity with its prior (same hour of the other day class, else the global level) */
  private usualAt(i: number, w: number): number {
    const own = this.b[i] as number;
    if (w >= 1) return own;
    let prior = this.globalLevel;
    if (this.o.buckets !== HOURS_PER_DAY) {
      const j = i < HOURS_PER_DAY ? i + HOURS_PER_DAY : i - HOURS_PER_DAY;
      const wj = this.maturity(j);
      prior = wj * (this.b[j] as number) + (1 - wj) * prior;
    }
    return w * own + (1 - w) * prior;
  }

  /** bucket i's scale blended by maturity with the (inflated) global scale */
  private scaleAt(i: number, w: number): number {
    const own = this.b[this.o.buckets + i] as number;
    if (w >= 1) return own;
    return w * own + (1 - w) * UNSEEN_SCALE_INFLATION * this.globalScale;
  }

  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore {
    const o = this.o;
    out.observed = value;
    out.detector = 'seasonal';
    // NaN fails both comparisons of usableValue; an infinite timestamp fails the subtraction test
    if (!usableValue(value) || !(tsMs - tsMs === 0)) {
      // bad data never throws and never touches the state
      out.score = 0;
      out.direction = 'none';
      out.expected = this.globalLevel;
      out.deviation = 0;
      return out;
    }

    // ---- event time: how much time this point stands for ----
    const points = this.points;
    const dtMs = advanceClock(this, tsMs);
    if (points === 0) this.globalLevel = value;
    const n = points + 1;

    // ---- prediction: interpolate between the two nearest bucket centres (hh:30) ----
    const u = (tsMs + o.offsetMs) / HOUR_MS - 0.5;
    const k0 = Math.floor(u);
    const f = u - k0;
    const i0 = this.bucketOf(k0);
    const i1 = this.bucketOf(k0 + 1);
    const w0 = this.maturity(i0);
    const w1 = this.maturity(i1);
    const usual = (1 - f) * this.usualAt(i0, w0) + f * this.usualAt(i1, w1);
    const offset = this.offset;
    const expected = usual + offset;
    let scale = (1 - f) * this.scaleAt(i0, w0) + f * this.scaleAt(i1, w1);
    const relFloor = o.relativeScaleFloor * (expected < 0 ? -expected : expected);
    if (scale < relFloor) scale = relFloor;
    if (scale < o.minScale) scale = o.minScale;
    if (scale < ABS_SCALE_EPSILON) scale = ABS_SCALE_EPSILON;
    const residual = value - expected;
    const z = residual / scale;
    this.lastSeasonal = usual;
    this.lastScale = scale;
    this.lastMaturity = (1 - f) * w0 + f * w1;

    // ---- score ----
    let warm = this.warm;
    if (!warm && n >= o.warmupPoints && this.lastTs - this.firstTs >= o.warmupMs) {
      warm = this.warm = true;
    }
    let score = 0;
    if (warm && directionAllows(o.direction, residual)) score = squash(z < 0 ? -z : z, o.zFloor, o.zSoftness);
    out.score = score;
    out.direction = directionOf(score, residual);
    out.expected = expected;
    out.deviation = z;

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
    this.offset = offset + offsetGain * (cleaned - usual - offset);
    let globalGain = stepGain(dtMs / GLOBAL_TAU_MS);
    if (globalGain * n < 1) globalGain = 1 / n;
    const globalLevel = this.globalLevel;
    this.globalLevel = globalLevel + globalGain * (cleaned - globalLevel);
    const scaleTarget = MAD_TO_SIGMA * absForScale;
    if (points > 0) {
      const globalScale = this.globalScale;
      this.globalScale = globalScale + globalGain * (scaleTarget - globalScale);
    }
    const stepHours = dtMs / HOUR_MS;
    this.learnBucket(i0, (1 - f) * stepHours, cleaned, scaleTarget, points > 0);
    this.learnBucket(i1, f * stepHours, cleaned, scaleTarget, points > 0);
    return out;
  }

  private learnBucket(i: number, weightHours: number, target: number, scaleTarget: number, learnScale: boolean): void {
    if (!(weightHours > 0)) return;
    const b = this.b;
    const buckets = this.o.buckets;
    const hi = 2 * buckets + i;
    let h = (b[hi] as number) + weightHours;
    if (h > BUCKET_MAX_HOURS) h = BUCKET_MAX_HOURS;
    b[hi] = h;
    let gain = stepGain(weightHours / this.o.seasonalMemoryHours);
    const average = weightHours / h;
    if (gain < average) gain = average;
    const p = b[i] as number;
    b[i] = p + gain * (target - p);
    // the very first point has no residual to learn a scale from
    if (learnScale) {
      const si = buckets + i;
      const sd = b[si] as number;
      b[si] = sd + gain * (scaleTarget - sd);
    }
  }

  snapshot(): Uint8Array {
    const w = new SnapshotWriter(SnapshotKind.seasonal, SNAPSHOT_VERSION, 1 + SCALAR_COUNT * 8 + this.b.byteLength);
    w.u8(this.o.buckets);
    w.f64(this.offset);
    w.f64(this.globalLevel);
    w.f64(this.globalScale);
    w.f64(this.firstTs);
    w.f64(this.lastTs);
    w.f64(this.points);
    w.f64(this.dtTypical);
    w.f32Array(this.b);
    return w.finish();
  }

  private restore(bytes: Uint8Array): void {
    const r = new SnapshotReader(bytes, SnapshotKind.seasonal, [SNAPSHOT_VERSION], 'seasonal baseline');
    const buckets = r.u8();
    if (buckets !== this.o.buckets) {
      throw new SnapshotError(
        `invalid seasonal baseline snapshot: it has ${buckets} buckets but the options give ${this.o.buckets} (was "weekly" changed?)`,
      );
    }
    this.offset = r.f64();
    this.globalLevel = r.f64();
    this.globalScale = r.f64();
    this.firstTs = r.f64();
    this.lastTs = r.f64();
    this.points = r.f64();
    this.dtTypical = r.f64();
    r.f32Array(this.b);
    r.end();
    this.warm = this.points >= this.o.warmupPoints && this.lastTs - this.firstTs >= this.o.warmupMs;
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
  return new SeasonalBaselineDetector(resolveSeasonalOptions(options), snapshot);
}

/** A {@link DetectorFactory} of seasonal baselines with fixed options (validated here, once). */
export function seasonalFactory(options: SeasonalBaselineOptions = {}): DetectorFactory {
  const resolved = resolveSeasonalOptions(options);
  return { create: (snapshot?: Uint8Array) => new SeasonalBaselineDetector(resolved, snapshot) };
}
