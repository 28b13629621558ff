/**
 * Drift detector: catches slow, sustained degradation (latency creeping up 2% an hour over a day)
 * that the seasonal baseline absorbs into its fast "today's offset" and so never flags.
 *
 * Method: a fast exponentially weighted level F (time constant {@link DRIFT_DEFAULTS}.fastTauMs,
 * one hour) is compared with a slow baseline B (three days) of the same input, in units of the
 * input's typical spread around B:
 *
 *   d = (F - B) / max(spread, floors)        score = 1 - exp(-max(0, |d| - zFloor) / zSoftness)
 *
 * Why EWMA-versus-long-baseline rather than CUSUM: a CUSUM sums evidence per point, so its
 * alarm time depends on the sampling rate (a 10-second series alarms 30 times sooner than a
 * 5-minute one on the same creep) and real residuals are autocorrelated, which makes per-point
 * evidence overconfident. Comparing two levels defined in event time ("the last hour versus the
 * last three days") gives the same answer at any sampling rate and reads as a sentence: "the
 * last hour is d typical deviations away from the multi-day normal". The spread is the mean
 * absolute deviation of the input around B (not a one-step noise estimate), so ordinary slow
 * wander of the series is part of "typical" and does not alarm.
 *
 * Input: by default (`deseasonalize: true`) the detector runs a seasonal baseline internally and
 * feeds the drift the standardised distance from the usual value at that time of day and week,
 * y = (x - usual(t)) / scale(t); that removes daily and weekly cycles (which would otherwise look
 * like a drift every morning) and makes day-time and night-time deviations comparable. The
 * seasonal baseline's own fast offset is deliberately left out of y: that offset is exactly what
 * absorbs a creep. With `deseasonalize: false` the raw value is used (for series without daily
 * cycles: cheaper, 7 doubles of state and 152 bytes of heap per series, against 86 doubles and 784
 * bytes with the seasonal baseline inside; both in one state array, see snapshot.ts).
 *
 * New normal: in raw mode a lasting change becomes normal as B absorbs it (`baselineTauMs`, three
 * days). Deseasonalised, the seasonal profile learns it too (its memory is about four visits of
 * each hour, and a weekend hour is only visited at weekends), so a lasting +50% is reported as a
 * drift for up to about five days; B, moving slowly, adds no alarm in the other direction after.
 *
 * Robustness: F and B are updated with Huber-clipped steps, so isolated spikes barely move them;
 * the spread update clips |y - B| and pauses while |d| is above zFloor (a drift must not teach the
 * detector that drifting is typical; B still absorbs it over `baselineTauMs`). Warm-up: the score is 0 until the drift has seen `warmupMs` of
 * data (and, when deseasonalising, only data after the seasonal baseline is itself warm counts).
 */
import { NON_NEGATIVE, POSITIVE, checkNumbers, withDefaults } from './options.ts';
import type { DirectionChoice } from '../config/types.ts';
import type { AnomalyScore } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import {
  ABS_SCALE_EPSILON,
  CLOCK_POINTS,
  CLOCK_SLOTS,
  HOUR_MS,
  MAD_TO_SIGMA,
  RESULT_OBJECT_BYTES,
  SeasonalModel,
  advanceClock,
  clockHasSeen,
  directionAllows,
  directionOf,
  emptyScore,
  initClock,
  readClock,
  resolveSeasonalOptions,
  squash,
  stepGain,
  usableValue,
  writeClock,
} from './seasonal-baseline.ts';
import type { ResolvedSeasonalOptions, SeasonalBaselineOptions } from './seasonal-baseline.ts';
import { SnapshotError, SnapshotKind, SnapshotReader, SnapshotWriter, detectorHeapBytes, zeroState } from './snapshot.ts';
import type { DetectorState } from './snapshot.ts';

/** Huber clip of the fast level's steps, in spreads: a lone spike moves F like a 3-spread point. */
export const FAST_CLIP_SPREADS = 3;
/** Huber clip of the baseline's steps, in spreads. */
export const BASELINE_CLIP_SPREADS = 2;
/** |y - B| clip for the spread update, in spreads. */
export const SPREAD_CLIP_SPREADS = 3;
/**
 * Smallest spread when the input is standardised by the seasonal baseline: one seasonal sigma.
 * Keeps a perfectly regular series from turning a hair's drift into an alarm.
 */
export const STANDARDISED_SPREAD_FLOOR = 1;

/** Default options; see {@link DriftOptions}. */
export const DRIFT_DEFAULTS = Object.freeze({
  direction: 'both',
  warmupMs: 24 * HOUR_MS,
  warmupPoints: 24,
  fastTauMs: HOUR_MS,
  baselineTauMs: 72 * HOUR_MS,
  zFloor: 2,
  zSoftness: 1.5,
  minScale: 0,
  relativeScaleFloor: 0.01,
  deseasonalize: true,
  reuseResult: false,
});

/** Options of {@link createDriftDetector}; defaults in {@link DRIFT_DEFAULTS}. */
export interface DriftOptions {
  /** which deviations may score: 'up', 'down' or 'both' (default) */
  direction?: DirectionChoice;
  /** no score until the drift has seen this much event time (default one day) */
  warmupMs?: number;
  /** ... and this many points (default 24) */
  warmupPoints?: number;
  /** time constant of the recent level F (default one hour) */
  fastTauMs?: number;
  /** time constant of the baseline B: how long a drift takes to become normal (default three days) */
  baselineTauMs?: number;
  /** |d| at or below this scores 0 (default 2 spreads; F is an average, so this is already rare) */
  zFloor?: number;
  /** score = 1 - exp(-(|d| - zFloor) / zSoftness) (default 1.5) */
  zSoftness?: number;
  /** raw mode only: absolute spread floor in the series' unit (default 0) */
  minScale?: number;
  /** raw mode only: spread floor relative to |B| (default 0.01) */
  relativeScaleFloor?: number;
  /** run a seasonal baseline and drift-test the deseasonalised, standardised value (default true) */
  deseasonalize?: boolean;
  /** options of the internal seasonal baseline (its `direction` and `reuseResult` are ignored) */
  seasonal?: SeasonalBaselineOptions;
  /** reuse one result object (see SeasonalBaselineOptions.reuseResult); default false */
  reuseResult?: boolean;
}

/** Options with defaults filled in, validated and frozen; share one between many detectors. */
export type ResolvedDriftOptions = Readonly<Required<Omit<DriftOptions, 'seasonal'>>> & {
  /** the internal seasonal baseline's options (direction 'both', results reused) */
  readonly seasonal: ResolvedSeasonalOptions;
};

/** Validates and fills in defaults; throws RangeError naming the bad option. */
export function resolveDriftOptions(options: DriftOptions): ResolvedDriftOptions {
  const o = withDefaults<Record<string, unknown>>(DRIFT_DEFAULTS, options);
  checkNumbers('drift', o, ['fastTauMs', 'baselineTauMs', 'zSoftness'], POSITIVE);
  checkNumbers('drift', o, ['warmupMs', 'warmupPoints', 'zFloor', 'minScale', 'relativeScaleFloor'], NON_NEGATIVE);
  if (o.direction !== 'up' && o.direction !== 'down' && o.direction !== 'both') {
    throw new RangeError(`drift option direction must be up, down or both, got ${String(o.direction)}`);
  }
  o.seasonal = resolveSeasonalOptions({ ...options.seasonal, direction: 'both', reuseResult: true });
  return Object.freeze(o) as ResolvedDriftOptions;
}

// ---- the state of one drift statistic, slots relative to its first slot (the snapshot's order) ----
/** F: the recent level */
const FAST = 0;
/** B: the slow baseline */
const BASE = 1;
/** typical |y - B| (x 1.2533) */
const SPREAD = 2;
/** the event clock (CLOCK_SLOTS slots) */
const CLOCK = 3;
/** Slots (doubles) of the drift statistic's state. */
export const DRIFT_SLOTS = CLOCK + CLOCK_SLOTS;
/** Bytes of the drift statistic's state in a snapshot. */
export const DRIFT_CORE_BYTES = DRIFT_SLOTS * 8;

/**
 * The drift statistic on an arbitrary input y (raw value, or a standardised seasonal residual),
 * with one set of options, working on the state of any number of series; one per factory. After
 * {@link step} or {@link skip}, its `last*` fields describe that step until the next one.
 * Exported for the combined detector; most callers want {@link createDriftDetector}.
 */
export class DriftModel {
  /** signed d of the last step */
  lastDeviation = 0;
  /** score of the last step, direction option applied */
  lastScore = 0;
  /** the slow baseline B before the last step (what the last point was compared with) */
  lastBaseline = 0;

  constructor(readonly o: ResolvedDriftOptions) {}

  /** sets a fresh state at `s[at]` */
  init(s: DetectorState, at: number): void {
    s[at + FAST] = 0;
    s[at + BASE] = 0;
    s[at + SPREAD] = 0;
    initClock(s, at + CLOCK);
  }

  /** the slow baseline B now */
  baseline(s: DetectorState, at: number): number {
    return s[at + BASE] as number;
  }

  /**
   * Scores y, then learns from it. `floor` is the smallest spread to divide by (in y's unit).
   * Sets lastScore, lastDeviation and lastBaseline. y and tsMs must be finite (callers filter).
   */
  step(s: DetectorState, at: number, tsMs: number, y: number, floor: number): void {
    const o = this.o;
    const points = s[at + CLOCK + CLOCK_POINTS] as number;
    const dtMs = advanceClock(s, at + CLOCK, tsMs);
    if (points === 0) {
      s[at + FAST] = y;
      s[at + BASE] = y;
    }
    const n = points + 1;
    const warm = clockHasSeen(s, at + CLOCK, o.warmupPoints, o.warmupMs);

    let spread = s[at + SPREAD] as number;
    if (spread < floor) spread = floor;
    if (spread < ABS_SCALE_EPSILON) spread = ABS_SCALE_EPSILON;

    // F learns first: "the last hour" must include this point
    const fast = s[at + FAST] as number;
    const base = s[at + BASE] as number;
    let fastStep = y - fast;
    let baseStep = y - base;
    let absDev = baseStep < 0 ? -baseStep : baseStep;
    if (warm) {
      const fc = FAST_CLIP_SPREADS * spread;
      if (fastStep > fc) fastStep = fc;
      else if (fastStep < -fc) fastStep = -fc;
      const bc = BASELINE_CLIP_SPREADS * spread;
      if (baseStep > bc) baseStep = bc;
      else if (baseStep < -bc) baseStep = -bc;
      const sc = SPREAD_CLIP_SPREADS * spread;
      if (absDev > sc) absDev = sc;
    }
    let fastGain = stepGain(dtMs / o.fastTauMs);
    if (fastGain * n < 1) fastGain = 1 / n;
    let baseGain = stepGain(dtMs / o.baselineTauMs);
    if (baseGain * n < 1) baseGain = 1 / n;
    const newFast = fast + fastGain * fastStep;
    s[at + FAST] = newFast;
    s[at + BASE] = base + baseGain * baseStep;
    // compared with the baseline as it was before this point (no self-influence)
    const d = (newFast - base) / spread;
    const absD = d < 0 ? -d : d;
    // the spread learns only while there is no drift: a drift must not teach that drifting is typical
    if (points > 0 && (!warm || absD <= o.zFloor)) {
      const oldSpread = s[at + SPREAD] as number;
      s[at + SPREAD] = oldSpread + baseGain * (MAD_TO_SIGMA * absDev - oldSpread);
    }
    this.lastBaseline = base;
    this.lastDeviation = d;
    this.lastScore = warm && directionAllows(o.direction, d) ? squash(absD, o.zFloor, o.zSoftness) : 0;
  }

  /** marks the last step as not scored (no usable input) */
  skip(s: DetectorState, at: number): void {
    this.lastScore = 0;
    this.lastDeviation = 0;
    this.lastBaseline = s[at + BASE] as number;
  }

  /** writes the state at `s[at]` into `w` (no header), {@link DRIFT_CORE_BYTES} bytes */
  write(w: SnapshotWriter, s: DetectorState, at: number): void {
    w.f64(s[at + FAST] as number);
    w.f64(s[at + BASE] as number);
    w.f64(s[at + SPREAD] as number);
    writeClock(w, s, at + CLOCK);
  }

  /** reads the state written by {@link write} into `s[at]` */
  read(r: SnapshotReader, s: DetectorState, at: number): void {
    s[at + FAST] = r.f64();
    s[at + BASE] = r.f64();
    s[at + SPREAD] = r.f64();
    readClock(r, s, at + CLOCK);
  }
}

/** A drift detector (see the module comment). */
export interface DriftDetector extends SeriesDetector {
  /** scores one point into `out` (no allocation) and returns it */
  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore;
}

const SNAPSHOT_VERSION = 1;

/**
 * Clip of the standardised input of the deseasonalised drift, in sigmas. A creep worth a drift
 * alarm sits a few sigmas out; 8 leaves those untouched while bounding how long the fast level
 * (one-hour time constant) stays up after a large incident ends: from 8 it falls under the
 * default zFloor within about an hour and a half.
 */
export const STANDARDISED_INPUT_CLIP = 8;

/**
 * Runs the seasonal baseline on (ts, value), then feeds the drift the standardised distance from
 * the usual value, but only where the usual value is known: once the seasonal baseline is warm
 * and the buckets of this hour are mature (the first weekend of a weekday-started series is
 * skipped, not mistaken for a drop). Returns false when the point could not be used at all (the
 * seasonal step rejected it; the drift is skipped). Shared by the drift and combined detectors.
 */
export function driftOnSeasonal(
  seasonal: SeasonalModel,
  drift: DriftModel,
  s: DetectorState,
  seasonalAt: number,
  driftAt: number,
  tsMs: number,
  value: number,
): boolean {
  const usable = seasonal.step(s, seasonalAt, tsMs, value);
  if (usable && seasonal.lastWarm && seasonal.lastMaturity >= 1) {
    // a drift is a sustained few-sigma shift; beyond STANDARDISED_INPUT_CLIP sigmas a point is a
    // sudden anomaly (the seasonal part's job). Clipping keeps an incident's hundreds of sigmas
    // from holding the fast level up for hours after the series is back to normal.
    let y = (value - seasonal.lastUsual) / seasonal.lastScale;
    if (y > STANDARDISED_INPUT_CLIP) y = STANDARDISED_INPUT_CLIP;
    else if (y < -STANDARDISED_INPUT_CLIP) y = -STANDARDISED_INPUT_CLIP;
    drift.step(s, driftAt, tsMs, y, STANDARDISED_SPREAD_FLOOR);
  } else {
    drift.skip(s, driftAt);
  }
  return usable;
}

/** Shared by every drift detector of one factory: the models and a fresh state. */
class DriftShared {
  readonly drift: DriftModel;
  /** the internal seasonal baseline, when deseasonalising */
  readonly seasonal: SeasonalModel | undefined;
  /** state layout: the drift statistic at slot 0, then the seasonal baseline's state, if any */
  readonly seasonalAt = DRIFT_SLOTS;
  readonly slots: number;
  readonly template: DetectorState;

  constructor(readonly o: ResolvedDriftOptions) {
    this.drift = new DriftModel(o);
    this.seasonal = o.deseasonalize ? new SeasonalModel(o.seasonal) : undefined;
    this.slots = DRIFT_SLOTS + (this.seasonal?.slots ?? 0);
    this.template = zeroState(this.slots);
    this.drift.init(this.template, 0);
    this.seasonal?.init(this.template, this.seasonalAt);
  }
}

class DriftDetectorImpl implements DriftDetector {
  private readonly s: DetectorState;
  private result: AnomalyScore | undefined;

  constructor(
    private readonly shared: DriftShared,
    snapshot?: Uint8Array,
  ) {
    this.s = shared.template.slice();
    if (snapshot !== undefined) this.restore(snapshot);
  }

  get stateBytes(): number {
    return detectorHeapBytes(this.shared.slots) + (this.shared.o.reuseResult ? RESULT_OBJECT_BYTES : 0);
  }

  update(tsMs: number, value: number): AnomalyScore {
    let out: AnomalyScore;
    if (this.shared.o.reuseResult) out = this.result ??= emptyScore('drift');
    else out = emptyScore('drift');
    return this.updateInto(tsMs, value, out);
  }

  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore {
    const { drift, seasonal, o } = this.shared;
    const s = this.s;
    if (seasonal === undefined) {
      if (usableValue(value) && tsMs - tsMs === 0) {
        const base = drift.baseline(s, 0);
        const floor = o.relativeScaleFloor * (base < 0 ? -base : base);
        drift.step(s, 0, tsMs, value, floor > o.minScale ? floor : o.minScale);
      } else {
        drift.skip(s, 0);
      }
      out.expected = drift.lastBaseline;
    } else if (driftOnSeasonal(seasonal, drift, s, this.shared.seasonalAt, 0, tsMs, value)) {
      out.expected = seasonal.lastUsual + drift.lastBaseline * seasonal.lastScale;
    } else {
      // a point that cannot be used: what the seasonal baseline reports for it
      out.expected = seasonal.fallbackExpected(s, this.shared.seasonalAt);
    }
    out.observed = value;
    out.detector = 'drift';
    out.score = drift.lastScore;
    out.direction = directionOf(drift.lastScore, drift.lastDeviation);
    out.deviation = drift.lastDeviation;
    return out;
  }

  snapshot(): Uint8Array {
    const { drift, seasonal, seasonalAt } = this.shared;
    const inner = seasonal?.snapshot(this.s, seasonalAt);
    const w = new SnapshotWriter(SnapshotKind.drift, SNAPSHOT_VERSION, 1 + DRIFT_CORE_BYTES + (inner === undefined ? 0 : 4 + inner.length));
    w.u8(inner === undefined ? 0 : 1);
    drift.write(w, this.s, 0);
    if (inner !== undefined) {
      w.u32(inner.length);
      w.raw(inner);
    }
    return w.finish();
  }

  private restore(bytes: Uint8Array): void {
    const { drift, seasonal, seasonalAt, o } = this.shared;
    const r = new SnapshotReader(bytes, SnapshotKind.drift, [SNAPSHOT_VERSION], 'drift');
    const hasSeasonal = r.u8() === 1;
    if (hasSeasonal !== o.deseasonalize) {
      throw new SnapshotError(
        `invalid drift snapshot: written with deseasonalize ${String(hasSeasonal)}, the options now say ${String(o.deseasonalize)}`,
      );
    }
    drift.read(r, this.s, 0);
    const inner = hasSeasonal ? r.raw(r.u32()) : undefined;
    r.end();
    if (seasonal !== undefined && inner !== undefined) seasonal.restore(this.s, seasonalAt, inner);
  }
}

/**
 * Creates a drift detector, fresh or restored from `snapshot()` bytes of one with the same
 * `deseasonalize` option. Throws on invalid options (RangeError) or unusable bytes
 * (SnapshotError); `update()` never throws.
 */
export function createDriftDetector(options: DriftOptions = {}, snapshot?: Uint8Array): DriftDetector {
  return new DriftDetectorImpl(new DriftShared(resolveDriftOptions(options)), snapshot);
}

/** A {@link DetectorFactory} of drift detectors with fixed options (validated here, once). */
export function driftFactory(options: DriftOptions = {}): DetectorFactory {
  const shared = new DriftShared(resolveDriftOptions(options));
  return { create: (snapshot?: Uint8Array) => new DriftDetectorImpl(shared, snapshot) };
}
