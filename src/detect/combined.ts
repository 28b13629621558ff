/**
 * The combined detector: a seasonal baseline (sudden anomalies against the usual value for this
 * hour of the weekday or weekend) and a drift detector on the seasonal residual (slow, sustained
 * degradation), run on the same points. It reports the larger score and names the detector that
 * produced it. Also the factories the engine builds detectors from.
 *
 * Sharing: the drift here is fed by the same seasonal baseline that scores the point (no second
 * copy). In all the combined detector holds about 2 KB of heap per series (`stateBytes` says
 * 2036, measured ~2040 on Node 20), an 829-byte snapshot, and costs ~300-600 ns per point on one
 * core, the likelihood stage included (see `detect.bench.ts` and `npm run bench:nab`).
 *
 * Likelihood stage (likelihood.ts, level-shift.ts): the same points also feed three raw surprise
 * measures - |seasonal z| (the seasonal residual), |value - long-run mean| / sigma and |5-point
 * mean - long-run mean| / sigma (no seasonality assumed) - each through its own anomaly likelihood
 * (how unusual is the recent level of that surprise for this series). The largest, L = -log10 of
 * a tail probability, is the likelihood score. With `output: 'score'` (the engine's default) it
 * joins the seasonal and drift scores as squash(L - {@link LIKELIHOOD_SCORE_FLOOR}), so only
 * one-in-a-million levels of surprise can raise a signal on their own; with
 * `output: 'likelihood'` the detector reports L itself (unbounded, comparable across series: what
 * the NAB benchmark scores; see bench/nab.ts).
 *
 * Result objects: `update()` returns a fresh AnomalyScore per call unless `reuseResult` is set,
 * in which case it returns one object per detector, overwritten by the next call.
 */
import type { DetectorChoice, DirectionChoice } from '../config/types.ts';
import type { AnomalyScore } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { DRIFT_CORE_BYTES, DriftCore, driftFactory, driftOnSeasonal, resolveDriftOptions } from './drift.ts';
import type { DriftOptions, ResolvedDriftOptions } from './drift.ts';
import {
  RESULT_OBJECT_BYTES,
  createSeasonalBaseline,
  directionOf,
  emptyScore,
  resolveSeasonalOptions,
  seasonalFactory,
  squash,
  usableValue,
} from './seasonal-baseline.ts';
import type { ResolvedSeasonalOptions, SeasonalBaseline, SeasonalBaselineOptions } from './seasonal-baseline.ts';
import { LEVEL_SHIFT_STATE_BYTES, LevelShift, resolveLevelShiftOptions } from './level-shift.ts';
import type { LevelShiftOptions } from './level-shift.ts';
import { AnomalyLikelihood, LIKELIHOOD_STATE_BYTES, resolveLikelihoodOptions, tailLog10 } from './likelihood.ts';
import type { LikelihoodOptions } from './likelihood.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter } from './snapshot.ts';

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
  /** the three likelihood stages (see likelihood.ts) */
  likelihood?: LikelihoodOptions;
  /** the long-run Gaussian and level-shift measures (see level-shift.ts) */
  levelShift?: LevelShiftOptions;
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
 * Usable points before the likelihood scores anything: its long-run estimates need a few hundred
 * points to mean something (NAB's files give the detector 15% of their rows, at most 750, to
 * learn; 300 fits inside all but the shortest).
 */
export const LIKELIHOOD_MIN_POINTS = 300;
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

/** version 2 adds the likelihood stage; version 1 snapshots restore with a fresh likelihood stage */
const SNAPSHOT_VERSION = 2;
/**
 * Heap of the combined wrapper, its drift core (objects and boxed double fields) and scratch
 * result on top of the state bytes of both parts (Node 20, 64-bit; calibrated with
 * `detect.bench.ts`).
 */
export const COMBINED_OBJECT_OVERHEAD_BYTES = 450;
/** State of the likelihood stage: one level-shift and three likelihoods. */
export const LIKELIHOOD_STAGE_BYTES = LEVEL_SHIFT_STATE_BYTES + 3 * LIKELIHOOD_STATE_BYTES;
/** Heap of the likelihood stage's four objects on top of their state (calibrated with `detect.bench.ts`). */
export const LIKELIHOOD_STAGE_OVERHEAD_BYTES = 250;

/** Resolved once per factory and shared by every detector it creates. */
interface ResolvedCombined {
  /** the seasonal part, with the rule's direction (it scores) */
  readonly seasonal: ResolvedSeasonalOptions;
  /** the drift part, fed by the seasonal part (its own `seasonal` field is unused) */
  readonly drift: ResolvedDriftOptions;
  readonly likelihood: Readonly<Required<LikelihoodOptions>>;
  readonly levelShift: Readonly<Required<LevelShiftOptions>>;
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

class CombinedDetectorImpl implements CombinedDetector {
  private readonly seasonal: SeasonalBaseline;
  private readonly drift: DriftCore;
  private readonly levelShift: LevelShift;
  /** likelihoods of |seasonal z|, |value z| and |level z| */
  private readonly likSeasonal: AnomalyLikelihood;
  private readonly likValue: AnomalyLikelihood;
  private readonly likLevel: AnomalyLikelihood;
  private readonly scratch: AnomalyScore = emptyScore('seasonal');
  private result: AnomalyScore | undefined;

  constructor(
    private readonly r: ResolvedCombined,
    snapshot?: Uint8Array,
  ) {
    this.drift = new DriftCore(r.drift);
    this.levelShift = new LevelShift(r.levelShift);
    this.likSeasonal = new AnomalyLikelihood(r.likelihood);
    this.likValue = new AnomalyLikelihood(r.likelihood);
    this.likLevel = new AnomalyLikelihood(r.likelihood);
    let seasonalBytes: Uint8Array | undefined;
    if (snapshot !== undefined) {
      const reader = new SnapshotReader(snapshot, SnapshotKind.combined, [1, SNAPSHOT_VERSION], 'combined detector');
      seasonalBytes = reader.raw(reader.u32());
      this.drift.read(reader);
      if (reader.version >= 2) {
        this.levelShift.read(reader);
        this.likSeasonal.read(reader);
        this.likValue.read(reader);
        this.likLevel.read(reader);
      }
      reader.end();
    }
    this.seasonal = createSeasonalBaseline(r.seasonal, seasonalBytes);
  }

  get stateBytes(): number {
    return (
      this.seasonal.stateBytes +
      DRIFT_CORE_BYTES +
      LIKELIHOOD_STAGE_BYTES +
      COMBINED_OBJECT_OVERHEAD_BYTES +
      LIKELIHOOD_STAGE_OVERHEAD_BYTES +
      (this.r.reuseResult ? RESULT_OBJECT_BYTES : 0)
    );
  }

  /**
   * Feeds the likelihood stage one point (after the seasonal baseline has scored it into
   * `scratch`); returns L, the largest -log10 tail probability of the three (0 while warming up
   * or for unusable values), and leaves the winning signed deviation in `likDeviation`.
   */
  private likelihoodStep(value: number, s: AnomalyScore): number {
    if (!usableValue(value)) return 0;
    const direction = this.r.direction;
    const ls = this.levelShift;
    ls.update(value);
    // each raw score counts only in the watched direction, so an 'up' rule's likelihood is not
    // raised by drops
    let best = this.likSeasonal.updateZ(this.seasonal.warm ? watched(direction, s.deviation) : 0);
    this.likDeviation = s.deviation;
    if (ls.count > LEVEL_SHIFT_WARMUP_POINTS) {
      const lv = this.likValue.updateZ(watched(direction, ls.valueZ));
      if (lv > best) {
        best = lv;
        this.likDeviation = ls.valueZ;
      }
      const ll = this.likLevel.updateZ(watched(direction, ls.levelZ));
      if (ll > best) {
        best = ll;
        this.likDeviation = ls.levelZ;
      }
    }
    // the tail is monotone in z: one tail for the largest z is the largest of the three tails
    if (ls.count < this.r.likelihoodMinPoints) return 0;
    return tailLog10(best);
  }

  /** signed deviation of the likelihood's winning raw measure at the last point */
  private likDeviation = 0;

  update(tsMs: number, value: number): AnomalyScore {
    let out: AnomalyScore;
    if (this.r.reuseResult) out = this.result ??= emptyScore('seasonal');
    else out = emptyScore('seasonal');
    return this.updateInto(tsMs, value, out);
  }

  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore {
    const s = this.scratch;
    const drift = this.drift;
    driftOnSeasonal(this.seasonal, drift, tsMs, value, s);
    const lik = tsMs - tsMs === 0 ? this.likelihoodStep(value, s) : 0;
    out.observed = value;
    if (this.r.output === 'likelihood') {
      out.score = lik;
      out.direction = directionOf(lik, this.likDeviation);
      out.expected = s.expected;
      out.deviation = this.likDeviation;
      out.detector = 'likelihood';
      return out;
    }
    const likScore = squash(lik, LIKELIHOOD_SCORE_FLOOR, LIKELIHOOD_SCORE_SOFTNESS);
    if (likScore > s.score && likScore > drift.lastScore) {
      out.score = likScore;
      out.direction = directionOf(likScore, this.likDeviation);
      out.expected = s.expected;
      out.deviation = this.likDeviation;
      out.detector = 'likelihood';
    } else if (drift.lastScore > s.score) {
      out.score = drift.lastScore;
      out.direction = directionOf(drift.lastScore, drift.lastDeviation);
      out.expected = this.seasonal.lastSeasonal + drift.lastBaseline * this.seasonal.lastScale;
      out.deviation = drift.lastDeviation;
      out.detector = 'drift';
    } else {
      out.score = s.score;
      out.direction = s.direction;
      out.expected = s.expected;
      out.deviation = s.deviation;
      out.detector = 'seasonal';
    }
    return out;
  }

  snapshot(): Uint8Array {
    const inner = this.seasonal.snapshot();
    const w = new SnapshotWriter(SnapshotKind.combined, SNAPSHOT_VERSION, 4 + inner.length + DRIFT_CORE_BYTES + LIKELIHOOD_STAGE_BYTES);
    w.u32(inner.length);
    w.raw(inner);
    this.drift.write(w);
    this.levelShift.write(w);
    this.likSeasonal.write(w);
    this.likValue.write(w);
    this.likLevel.write(w);
    return w.finish();
  }
}

/**
 * Creates a combined detector, fresh or restored from `snapshot()` bytes. Throws on invalid
 * options (RangeError) or unusable bytes (SnapshotError); `update()` never throws.
 */
export function createCombinedDetector(options: CombinedOptions = {}, snapshot?: Uint8Array): CombinedDetector {
  return new CombinedDetectorImpl(resolveCombined(options), snapshot);
}

/** A {@link DetectorFactory} of combined detectors with fixed options (validated here, once). */
export function combinedFactory(options: CombinedOptions = {}): DetectorFactory {
  const resolved = resolveCombined(options);
  return { create: (snapshot?: Uint8Array) => new CombinedDetectorImpl(resolved, snapshot) };
}

/** Tuning passed through {@link detectorFactoryFor} to whichever detector is chosen. */
export interface DetectorTuning {
  seasonal?: CombinedSeasonalOptions;
  drift?: CombinedDriftOptions;
  /** combined only: the likelihood stage's options */
  likelihood?: LikelihoodOptions;
  /** combined only: the level-shift measures' options */
  levelShift?: LevelShiftOptions;
  /** combined only: see {@link CombinedOptions.likelihoodMinPoints} */
  likelihoodMinPoints?: number;
  /** combined only: see {@link CombinedOptions.output} */
  output?: CombinedOutput;
  reuseResult?: boolean;
}

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
