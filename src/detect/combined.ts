/**
 * The combined detector: a seasonal baseline (sudden anomalies against the usual value for this
 * hour of the weekday or weekend) and a drift detector on the seasonal residual (slow, sustained
 * degradation), run on the same points. It reports the larger score and names the detector that
 * produced it. Also the factories the engine builds detectors from.
 *
 * Sharing: the drift here is fed by the same seasonal baseline that scores the point (no second
 * copy). Memory: one small object and one array of doubles per series holding the state of every
 * part (see "State layout" below): `stateBytes` says 976 bytes of heap (940-950 measured by
 * `detect.bench.ts` on Node 20), plus a 909-byte snapshot; it costs about 300-350
 * ns per point on one core, the likelihood stage included (see `detect.bench.ts` and
 * `npm run bench:nab`).
 *
 * Likelihood stage (likelihood.ts, level-shift.ts, autocorrelation.ts, range.ts): the same points
 * also feed three raw surprise measures - |seasonal z| (the seasonal residual), |5-point mean -
 * long-run mean| / sigma (a level shift, no seasonality assumed) and, for rules watching both
 * directions, the shift of the lag-1 autocorrelation (a change of texture: oscillating, smooth,
 * stuck) - each through its own anomaly likelihood (how unusual is the recent level of that
 * surprise for this series; the autocorrelation's with a handicap of one sigma, autocorrelation.ts). The largest, L = -log10 of a tail probability, is the
 * likelihood score; a range novelty (the value or the 5-point mean beyond
 * everything the series has shown) raises it to at least {@link RANGE_NOVELTY_LIKELIHOOD}. With
 * `output: 'score'` (the engine's default) L joins the seasonal and drift scores as
 * squash(L - {@link LIKELIHOOD_SCORE_FLOOR}), so only one-in-a-million levels of surprise can raise
 * a signal on their own; with `output: 'likelihood'` the detector reports L itself (unbounded,
 * comparable across series: what the NAB benchmark scores; see bench/nab.ts), with detector
 * {@link RANGE_DETECTOR} for a range novelty. (Until version 3 of the snapshot a third stream,
 * |value - long-run mean| / sigma, had its own likelihood; with the range novelty it no longer
 * changed a single NAB detection, so it went.)
 *
 * Result objects: `update()` returns a fresh AnomalyScore per call unless `reuseResult` is set,
 * in which case it returns one object per detector, overwritten by the next call.
 *
 * State layout: each part's algorithm is a model object (SeasonalModel, DriftModel,
 * LevelShiftModel, LikelihoodModel), built once per factory with its options and shared by every
 * series; a detector is its state array ({@link DetectorState}) and a reference to those models.
 * {@link CombinedShared} gives each part its slots in that array (`take(...)`), in order:
 * seasonal baseline (79), drift (7), level shift (3), the two likelihood streams (3 each), the
 * range novelty (5), the autocorrelation shift (5), its likelihood stream (3) and their point
 * count (1), the likelihood stage's point count (1): 110 doubles. A new stage gets its state the same way: its
 * file exports its slot count and a model class whose methods take (state, first slot, ...); add
 * `myStageAt = take(MY_STAGE_SLOTS)` and the model to CombinedShared, initialise its slots in the
 * template there if they do not start at 0, call the model in `updateInto`, and write and read
 * its slots in the snapshot (a new snapshot version; older versions restore with the new stage
 * fresh, as version 1 does for the likelihood stage). Each slot costs 8 bytes per series.
 */
import type { DetectorChoice, DirectionChoice } from '../config/types.ts';
import type { AnomalyScore } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { DRIFT_CORE_BYTES, DRIFT_SLOTS, DriftModel, driftFactory, driftOnSeasonal, resolveDriftOptions } from './drift.ts';
import type { DriftOptions, ResolvedDriftOptions } from './drift.ts';
import {
  RESULT_OBJECT_BYTES,
  SeasonalModel,
  directionOf,
  emptyScore,
  resolveSeasonalOptions,
  seasonalFactory,
  squash,
} from './seasonal-baseline.ts';
import type { ResolvedSeasonalOptions, SeasonalBaselineOptions } from './seasonal-baseline.ts';
import { LEVEL_SHIFT_SLOTS, LEVEL_SHIFT_STATE_BYTES, LevelShiftModel, resolveLevelShiftOptions } from './level-shift.ts';
import type { LevelShiftOptions } from './level-shift.ts';
import { LIKELIHOOD_SLOTS, LIKELIHOOD_STATE_BYTES, LikelihoodModel, resolveLikelihoodOptions, tailLog10 } from './likelihood.ts';
import type { LikelihoodOptions } from './likelihood.ts';
import { readEwGaussian, writeEwGaussian } from './ew-gaussian.ts';
import {
  AUTOCORRELATION_SLOTS,
  AUTOCORRELATION_STATE_BYTES,
  AutocorrelationModel,
  resolveAutocorrelationOptions,
} from './autocorrelation.ts';
import type { AutocorrelationOptions } from './autocorrelation.ts';
import { RANGE_DETECTOR, RANGE_SLOTS, RANGE_STATE_BYTES, RangeNoveltyModel, resolveRangeOptions } from './range.ts';
import type { RangeOptions } from './range.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter, detectorHeapBytes, readSlots, writeSlots, zeroState } from './snapshot.ts';
import type { DetectorState } from './snapshot.ts';

/** Options of the seasonal part, without those the combined detector sets itself. */
export type CombinedSeasonalOptions = Omit<SeasonalBaselineOptions, 'direction' | 'reuseResult'>;
/** Options of the drift part, without those the combined detector sets itself. */
export type CombinedDriftOptions = Omit<DriftOptions, 'direction' | 'reuseResult' | 'deseasonalize' | 'seasonal'>;

/** Options of {@link createCombinedDetector}. */
export interface CombinedOptions {
  /** which deviations may score, for both parts: 'up', 'down' or 'both' (default) */
  direction?: DirectionChoice;
  seasonal?: CombinedSeasonalOptions;
  drift?: CombinedDriftOptions;
  /** the likelihood streams' options (see likelihood.ts) */
  likelihood?: LikelihoodOptions;
  /** the level-shift measure (see level-shift.ts) */
  levelShift?: LevelShiftOptions;
  /** the range novelty check (see range.ts) */
  range?: RangeOptions;
  /** the autocorrelation shift measure (see autocorrelation.ts) */
  autocorrelation?: AutocorrelationOptions;
  /** no likelihood score before this many usable points (default {@link LIKELIHOOD_MIN_POINTS}) */
  likelihoodMinPoints?: number;
  /**
   * 'score' (default): the score is the largest of the seasonal, drift and squashed likelihood
   * scores, in [0, 1]; 'likelihood': the score is the likelihood L itself (>= 0, unbounded)
   */
  output?: CombinedOutput;
  /**
   * when true, `update()` returns the same object every time, overwritten by the next call (no
   * allocation on the hot path; copy it to keep it). Default false: a fresh object per call.
   */
  reuseResult?: boolean;
}

/** What the combined detector reports as its score (see {@link CombinedOptions.output}). */
export type CombinedOutput = 'score' | 'likelihood';

/**
 * Usable points before the likelihood (and the range novelty) scores anything: its long-run
 * estimates need a hundred or two points to mean something. 150 ends inside the learning period
 * NAB gives every file (15% of its rows, at most 750; the shortest file gives 169), so the
 * detector is judging by the time the benchmark is; NAB scores the same for anything from 80 to
 * 200, and 300 (the earlier value) scored 0.7 standard / 0.8 low FN lower: it hid a labelled
 * spike at row 296 of a 1,538-row file, a value 1.5 times the highest seen before. On 5-minute
 * data 150 points are 12.5 hours; the seasonal score has its own one-day warm-up.
 */
export const LIKELIHOOD_MIN_POINTS = 150;
/**
 * Points before the long-run Gaussian's measures feed their likelihoods: its first few sigmas are
 * estimated from a handful of points and would teach the likelihood that huge z's are normal.
 */
export const LEVEL_SHIFT_WARMUP_POINTS = 50;
/**
 * L at or below this adds nothing to the engine's [0, 1] score: 6 = a level of surprise seen
 * once in a million points. Above it, squash(L - 6, softness {@link LIKELIHOOD_SCORE_SOFTNESS}).
 * High, because the engine's seasonal and drift scores already cover ordinary anomalies and the
 * rules' thresholds are calibrated on them; the likelihood only adds what they cannot see.
 */
export const LIKELIHOOD_SCORE_FLOOR = 6;
/** Softness of that squash: L = 8 maps to 0.63, L = 12 to 0.95. */
export const LIKELIHOOD_SCORE_SOFTNESS = 2;

/** A combined detector. */
export interface CombinedDetector extends SeriesDetector {
  /** scores one point into `out` (no allocation) and returns it */
  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore;
}

/**
 * Version 2 added the likelihood stage (version 1 snapshots restore with a fresh one); version 3
 * replaces its |value z| stream by the range novelty (version 2 snapshots restore with the other
 * streams kept and a fresh range); version 4 adds the autocorrelation shift and its likelihood
 * stream (older versions restore with both fresh).
 */
const SNAPSHOT_VERSION = 4;
/**
 * Snapshot bytes of the likelihood stage: one level shift and two likelihoods (each with its
 * count), the range, the autocorrelation shift and its likelihood (with its count).
 */
export const LIKELIHOOD_STAGE_BYTES =
  LEVEL_SHIFT_STATE_BYTES + 2 * LIKELIHOOD_STATE_BYTES + RANGE_STATE_BYTES + AUTOCORRELATION_STATE_BYTES + LIKELIHOOD_STATE_BYTES;
/**
 * The likelihood reported for a range novelty (a value or level beyond everything the series has
 * shown; range.ts) when it is larger than the likelihood itself: 5 = as surprising as a
 * one-in-100 000 level. Above the NAB bench's detection level (2), below the engine's
 * {@link LIKELIHOOD_SCORE_FLOOR}: in the engine a new extreme alone raises no signal (a growing
 * account sets new records all the time); the seasonal and drift scores judge it as usual.
 */
export const RANGE_NOVELTY_LIKELIHOOD = 5;

/** Resolved once per factory and shared by every detector it creates. */
interface ResolvedCombined {
  /** the seasonal part, with the rule's direction (it scores) */
  readonly seasonal: ResolvedSeasonalOptions;
  /** the drift part, fed by the seasonal part (its own `seasonal` field is unused) */
  readonly drift: ResolvedDriftOptions;
  readonly likelihood: Readonly<Required<LikelihoodOptions>>;
  readonly levelShift: Readonly<Required<LevelShiftOptions>>;
  readonly range: Readonly<Required<RangeOptions>>;
  readonly autocorrelation: Readonly<Required<AutocorrelationOptions>>;
  readonly likelihoodMinPoints: number;
  readonly output: CombinedOutput;
  readonly direction: DirectionChoice;
  readonly reuseResult: boolean;
}

function resolveCombined(options: CombinedOptions): ResolvedCombined {
  const direction = options.direction ?? 'both';
  const minPoints = options.likelihoodMinPoints ?? LIKELIHOOD_MIN_POINTS;
  if (!Number.isFinite(minPoints) || minPoints < 0) {
    throw new RangeError(`combined detector option likelihoodMinPoints must be a non-negative number, got ${String(minPoints)}`);
  }
  const output = options.output ?? 'score';
  if (output !== 'score' && output !== 'likelihood') {
    throw new RangeError(`combined detector option output must be score or likelihood, got ${String(output)}`);
  }
  return Object.freeze({
    seasonal: resolveSeasonalOptions({ ...options.seasonal, direction, reuseResult: true }),
    drift: resolveDriftOptions({ ...options.drift, direction, deseasonalize: false }),
    likelihood: resolveLikelihoodOptions(options.likelihood),
    levelShift: resolveLevelShiftOptions(options.levelShift),
    range: resolveRangeOptions(options.range),
    autocorrelation: resolveAutocorrelationOptions(options.autocorrelation),
    likelihoodMinPoints: minPoints,
    output,
    direction,
    reuseResult: options.reuseResult ?? false,
  });
}

/** the magnitude of a signed deviation when the rule's direction watches it, else 0 */
function watched(direction: DirectionChoice, deviation: number): number {
  if (direction === 'both') return deviation < 0 ? -deviation : deviation;
  if (direction === 'up') return deviation > 0 ? deviation : 0;
  return deviation < 0 ? -deviation : 0;
}

/**
 * Shared by every combined detector of one factory: the options, each part's model, where each
 * part's state sits in a detector's state array, and a fresh state to copy.
 */
class CombinedShared {
  readonly seasonal: SeasonalModel;
  readonly drift: DriftModel;
  readonly levelShift: LevelShiftModel;
  /** one model for the two likelihood streams (same options, own slots) */
  readonly likelihood: LikelihoodModel;
  readonly range: RangeNoveltyModel;
  readonly autocorrelation: AutocorrelationModel;
  // first slot of each part's state
  readonly seasonalAt: number;
  readonly driftAt: number;
  readonly levelShiftAt: number;
  /** likelihoods of |seasonal z| and |level z| */
  readonly likSeasonalAt: number;
  readonly likLevelAt: number;
  readonly rangeAt: number;
  /** the autocorrelation shift, its likelihood stream and their own point count (older snapshots restore them fresh) */
  readonly acfAt: number;
  readonly likAcfAt: number;
  readonly acfPointsAt: number;
  /**
   * points learned by the level shift and the |seasonal z| likelihood (they learn every usable
   * point); the |level z| likelihood has learned LEVEL_SHIFT_WARMUP_POINTS fewer
   */
  readonly likPointsAt: number;
  /** doubles of state per series */
  readonly slots: number;
  readonly template: DetectorState;
  /** signed deviation of the likelihood's winning raw measure at the last point (a per-step result, like the models' `last*`) */
  likDeviation = 0;
  /** whether the last point's value was a range novelty in the watched direction (a per-step result) */
  lastNovel = false;

  constructor(readonly r: ResolvedCombined) {
    this.seasonal = new SeasonalModel(r.seasonal);
    this.drift = new DriftModel(r.drift);
    this.levelShift = new LevelShiftModel(r.levelShift);
    this.likelihood = new LikelihoodModel(r.likelihood);
    this.range = new RangeNoveltyModel(r.range);
    this.autocorrelation = new AutocorrelationModel(r.autocorrelation);
    let next = 0;
    const take = (slots: number): number => {
      const at = next;
      next += slots;
      return at;
    };
    this.seasonalAt = take(this.seasonal.slots);
    this.driftAt = take(DRIFT_SLOTS);
    this.levelShiftAt = take(LEVEL_SHIFT_SLOTS);
    this.likSeasonalAt = take(LIKELIHOOD_SLOTS);
    this.likLevelAt = take(LIKELIHOOD_SLOTS);
    this.rangeAt = take(RANGE_SLOTS);
    this.acfAt = take(AUTOCORRELATION_SLOTS);
    this.likAcfAt = take(LIKELIHOOD_SLOTS);
    this.acfPointsAt = take(1);
    this.likPointsAt = take(1);
    this.slots = next;
    // everything else starts at 0
    this.template = zeroState(this.slots);
    this.seasonal.init(this.template, this.seasonalAt);
    this.drift.init(this.template, this.driftAt);
  }
}

class CombinedDetectorImpl implements CombinedDetector {
  private readonly s: DetectorState;
  private result: AnomalyScore | undefined;

  constructor(
    private readonly shared: CombinedShared,
    snapshot?: Uint8Array,
  ) {
    this.s = shared.template.slice();
    if (snapshot !== undefined) this.restore(snapshot);
  }

  get stateBytes(): number {
    return detectorHeapBytes(this.shared.slots) + (this.shared.r.reuseResult ? RESULT_OBJECT_BYTES : 0);
  }

  /**
   * Feeds the likelihood stage one usable point (after the seasonal baseline has scored it);
   * returns L, the larger -log10 tail probability of the two streams (0 while warming up), raised
   * to {@link RANGE_NOVELTY_LIKELIHOOD} for a range novelty, and leaves the winning signed
   * deviation in `shared.likDeviation` and whether the point was a range novelty in
   * `shared.lastNovel`.
   */
  private likelihoodStep(value: number): number {
    const m = this.shared;
    const s = this.s;
    const direction = m.r.direction;
    const ls = m.levelShift;
    const lik = m.likelihood;
    const n = (s[m.likPointsAt] as number) + 1;
    s[m.likPointsAt] = n;
    ls.update(s, m.levelShiftAt, n, value);
    // each raw score counts only in the watched direction, so an 'up' rule's likelihood is not
    // raised by drops
    const seasonalZ = m.seasonal.lastZ;
    let best = lik.updateZ(s, m.likSeasonalAt, n, m.seasonal.lastWarm ? watched(direction, seasonalZ) : 0);
    let deviation = seasonalZ;
    if (n > LEVEL_SHIFT_WARMUP_POINTS) {
      const ll = lik.updateZ(s, m.likLevelAt, n - LEVEL_SHIFT_WARMUP_POINTS, watched(direction, ls.levelZ));
      if (ll > best) {
        best = ll;
        deviation = ls.levelZ;
      }
    }
    // the autocorrelation shift has no direction: it is kept (and counts) only where both
    // directions are watched; for 'up' and 'down' rules its slots stay 0
    if (direction === 'both') {
      const a = (s[m.acfPointsAt] as number) + 1;
      s[m.acfPointsAt] = a;
      const shift = m.autocorrelation.update(s, m.acfAt, a, value - ls.level);
      if (a > LEVEL_SHIFT_WARMUP_POINTS) {
        const la = lik.updateZ(s, m.likAcfAt, a - LEVEL_SHIFT_WARMUP_POINTS, shift) - m.r.autocorrelation.zHandicap;
        if (la > best) {
          best = la;
          deviation = ls.levelZ;
        }
      }
    }
    const novel = m.range.update(s, m.rangeAt, value, ls.level);
    const novelWatched = novel !== 0 && watched(direction, novel) > 0;
    // only a new extreme *value* is reported past the onset filter's quiet time (refractory, re-arm): the level
    // of one slow incident keeps setting new records while it climbs
    m.lastNovel = novelWatched && (novel === 1 || novel === -1);
    m.likDeviation = deviation;
    if (n < m.r.likelihoodMinPoints) {
      m.lastNovel = false;
      return 0;
    }
    // the tail is monotone in z: one tail for the larger z is the larger of the two tails
    const l = tailLog10(best);
    if (!novelWatched || l >= RANGE_NOVELTY_LIKELIHOOD) return l;
    // the deviation of a new extreme: the larger of the value's and the level's, signed as the novelty
    m.likDeviation = Math.sign(novel) * Math.max(Math.abs(ls.valueZ), Math.abs(ls.levelZ));
    return RANGE_NOVELTY_LIKELIHOOD;
  }

  update(tsMs: number, value: number): AnomalyScore {
    let out: AnomalyScore;
    if (this.shared.r.reuseResult) out = this.result ??= emptyScore('seasonal');
    else out = emptyScore('seasonal');
    return this.updateInto(tsMs, value, out);
  }

  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore {
    const m = this.shared;
    const seasonal = m.seasonal;
    const drift = m.drift;
    out.observed = value;
    if (!driftOnSeasonal(seasonal, drift, this.s, m.seasonalAt, m.driftAt, tsMs, value)) {
      // a value or timestamp that cannot be used: nothing learned, nothing scored
      out.score = 0;
      out.direction = 'none';
      out.expected = seasonal.fallbackExpected(this.s, m.seasonalAt);
      out.deviation = 0;
      out.detector = m.r.output === 'likelihood' ? 'likelihood' : 'seasonal';
      return out;
    }
    const lik = this.likelihoodStep(value);
    if (m.r.output === 'likelihood') {
      out.score = lik;
      out.direction = directionOf(lik, m.likDeviation);
      out.expected = seasonal.lastExpected;
      out.deviation = m.likDeviation;
      out.detector = m.lastNovel ? RANGE_DETECTOR : 'likelihood';
      return out;
    }
    const seasonalScore = seasonal.lastScore;
    const likScore = squash(lik, LIKELIHOOD_SCORE_FLOOR, LIKELIHOOD_SCORE_SOFTNESS);
    if (likScore > seasonalScore && likScore > drift.lastScore) {
      out.score = likScore;
      out.direction = directionOf(likScore, m.likDeviation);
      out.expected = seasonal.lastExpected;
      out.deviation = m.likDeviation;
      out.detector = 'likelihood';
    } else if (drift.lastScore > seasonalScore) {
      out.score = drift.lastScore;
      out.direction = directionOf(drift.lastScore, drift.lastDeviation);
      out.expected = seasonal.lastUsual + drift.lastBaseline * seasonal.lastScale;
      out.deviation = drift.lastDeviation;
      out.detector = 'drift';
    } else {
      out.score = seasonalScore;
      out.direction = directionOf(seasonalScore, seasonal.lastZ);
      out.expected = seasonal.lastExpected;
      out.deviation = seasonal.lastZ;
      out.detector = 'seasonal';
    }
    return out;
  }

  snapshot(): Uint8Array {
    const m = this.shared;
    const s = this.s;
    const inner = m.seasonal.snapshot(s, m.seasonalAt);
    const w = new SnapshotWriter(SnapshotKind.combined, SNAPSHOT_VERSION, 4 + inner.length + DRIFT_CORE_BYTES + LIKELIHOOD_STAGE_BYTES);
    w.u32(inner.length);
    w.raw(inner);
    m.drift.write(w, s, m.driftAt);
    // each stream with its own count, as version 2 has always been written
    const n = s[m.likPointsAt] as number;
    const k = n > LEVEL_SHIFT_WARMUP_POINTS ? n - LEVEL_SHIFT_WARMUP_POINTS : 0;
    writeEwGaussian(w, s, m.levelShiftAt, n);
    writeEwGaussian(w, s, m.likSeasonalAt, n);
    writeEwGaussian(w, s, m.likLevelAt, k);
    writeSlots(w, s, m.rangeAt, RANGE_SLOTS);
    writeSlots(w, s, m.acfAt, AUTOCORRELATION_SLOTS);
    // with the stage's own count (its likelihood stream's is that minus the warm-up)
    writeEwGaussian(w, s, m.likAcfAt, s[m.acfPointsAt] as number);
    return w.finish();
  }

  private restore(bytes: Uint8Array): void {
    const m = this.shared;
    const s = this.s;
    const reader = new SnapshotReader(bytes, SnapshotKind.combined, [1, 2, 3, SNAPSHOT_VERSION], 'combined detector');
    const seasonalBytes = reader.raw(reader.u32());
    m.drift.read(reader, s, m.driftAt);
    if (reader.version >= 2) {
      // the streams' own counts follow from the level shift's (see likPointsAt)
      s[m.likPointsAt] = readEwGaussian(reader, s, m.levelShiftAt);
      readEwGaussian(reader, s, m.likSeasonalAt);
      // version 2 had a |value z| stream here (dropped in version 3: the range novelty does its job)
      if (reader.version === 2) readEwGaussian(reader, zeroState(LIKELIHOOD_SLOTS), 0);
      readEwGaussian(reader, s, m.likLevelAt);
      if (reader.version >= 3) readSlots(reader, s, m.rangeAt, RANGE_SLOTS);
      if (reader.version >= 4) {
        readSlots(reader, s, m.acfAt, AUTOCORRELATION_SLOTS);
        s[m.acfPointsAt] = readEwGaussian(reader, s, m.likAcfAt);
      }
    }
    reader.end();
    m.seasonal.restore(s, m.seasonalAt, seasonalBytes);
  }
}

/**
 * Creates a combined detector, fresh or restored from `snapshot()` bytes. Throws on invalid
 * options (RangeError) or unusable bytes (SnapshotError); `update()` never throws.
 */
export function createCombinedDetector(options: CombinedOptions = {}, snapshot?: Uint8Array): CombinedDetector {
  return new CombinedDetectorImpl(new CombinedShared(resolveCombined(options)), snapshot);
}

/** A {@link DetectorFactory} of combined detectors with fixed options (validated here, once). */
export function combinedFactory(options: CombinedOptions = {}): DetectorFactory {
  const shared = new CombinedShared(resolveCombined(options));
  return { create: (snapshot?: Uint8Array) => new CombinedDetectorImpl(shared, snapshot) };
}

/**
 * Tuning passed through {@link detectorFactoryFor} to whichever detector is chosen: the combined
 * detector's options without the direction (the rule's); seasonal and drift detectors take only
 * `seasonal`, `drift` and `reuseResult`.
 */
export type DetectorTuning = Omit<CombinedOptions, 'direction'>;

/**
 * The factory for a rule's `detector` and `direction` choice: 'seasonal' (sudden anomalies
 * against the time-of-day/week baseline), 'drift' (slow sustained change, deseasonalised) or
 * 'combined' (both; the larger score wins).
 */
export function detectorFactoryFor(
  choice: DetectorChoice,
  direction: DirectionChoice = 'both',
  tuning: DetectorTuning = {},
): DetectorFactory {
  const reuse = tuning.reuseResult === undefined ? {} : { reuseResult: tuning.reuseResult };
  switch (choice) {
    case 'seasonal':
      return seasonalFactory({ ...tuning.seasonal, direction, ...reuse });
    case 'drift':
      return driftFactory({ ...tuning.drift, seasonal: tuning.seasonal ?? {}, deseasonalize: true, direction, ...reuse });
    case 'combined':
      return combinedFactory({ ...tuning, direction });
    default: {
      const never: never = choice;
      throw new RangeError(`unknown detector choice ${String(never)}, expected seasonal, drift or combined`);
    }
  }
}
