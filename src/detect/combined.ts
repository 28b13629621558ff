/**
 * The combined detector: a seasonal baseline (sudden anomalies against the usual value for this
 * hour of the weekday or weekend) and a drift detector on the seasonal residual (slow, sustained
 * degradation), run on the same points. It reports the larger score and names the detector that
 * produced it. Also the factories the engine builds detectors from.
 *
 * Sharing: the drift here is fed by the same seasonal baseline that scores the point (no second
 * copy), so the combined detector costs the seasonal baseline plus a 56-byte drift core: about
 * 1.5-1.7 KB of heap per series in all (`stateBytes` says 1658), a 701-byte snapshot, and
 * ~200 ns per point on one core (see `detect.bench.ts`).
 *
 * Result objects: `update()` returns a fresh AnomalyScore per call unless `reuseResult` is set,
 * in which case it returns one object per detector, overwritten by the next call.
 */
import type { DetectorChoice, DirectionChoice } from '../config/types.ts';
import type { AnomalyScore } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { DRIFT_CORE_BYTES, DriftCore, driftFactory, driftOnSeasonal, resolveDriftOptions } from './drift.ts';
import type { DriftOptions, ResolvedDriftOptions } from './drift.ts';
import { RESULT_OBJECT_BYTES, createSeasonalBaseline, directionOf, emptyScore, resolveSeasonalOptions, seasonalFactory } from './seasonal-baseline.ts';
import type { ResolvedSeasonalOptions, SeasonalBaseline, SeasonalBaselineOptions } from './seasonal-baseline.ts';
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
  /**
   * when true, `update()` returns the same object every time, overwritten by the next call (no
   * allocation on the hot path; copy it to keep it). Default false: a fresh object per call.
   */
  reuseResult?: boolean;
}

/** A combined detector. */
export interface CombinedDetector extends SeriesDetector {
  /** scores one point into `out` (no allocation) and returns it */
  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore;
}

const SNAPSHOT_VERSION = 1;
/**
 * Heap of the combined wrapper, its drift core (objects and boxed double fields) and scratch
 * result on top of the state bytes of both parts (Node 20, 64-bit; calibrated with
 * `detect.bench.ts`).
 */
export const COMBINED_OBJECT_OVERHEAD_BYTES = 450;

/** Resolved once per factory and shared by every detector it creates. */
interface ResolvedCombined {
  /** the seasonal part, with the rule's direction (it scores) */
  readonly seasonal: ResolvedSeasonalOptions;
  /** the drift part, fed by the seasonal part (its own `seasonal` field is unused) */
  readonly drift: ResolvedDriftOptions;
  readonly reuseResult: boolean;
}

function resolveCombined(options: CombinedOptions): ResolvedCombined {
  const direction = options.direction ?? 'both';
  return Object.freeze({
    seasonal: resolveSeasonalOptions({ ...options.seasonal, direction, reuseResult: true }),
    drift: resolveDriftOptions({ ...options.drift, direction, deseasonalize: false }),
    reuseResult: options.reuseResult ?? false,
  });
}

class CombinedDetectorImpl implements CombinedDetector {
  private readonly seasonal: SeasonalBaseline;
  private readonly drift: DriftCore;
  private readonly scratch: AnomalyScore = emptyScore('seasonal');
  private result: AnomalyScore | undefined;

  constructor(
    private readonly r: ResolvedCombined,
    snapshot?: Uint8Array,
  ) {
    this.drift = new DriftCore(r.drift);
    let seasonalBytes: Uint8Array | undefined;
    if (snapshot !== undefined) {
      const reader = new SnapshotReader(snapshot, SnapshotKind.combined, [SNAPSHOT_VERSION], 'combined detector');
      seasonalBytes = reader.raw(reader.u32());
      this.drift.read(reader);
      reader.end();
    }
    this.seasonal = createSeasonalBaseline(r.seasonal, seasonalBytes);
  }

  get stateBytes(): number {
    return (
      this.seasonal.stateBytes + DRIFT_CORE_BYTES + COMBINED_OBJECT_OVERHEAD_BYTES + (this.r.reuseResult ? RESULT_OBJECT_BYTES : 0)
    );
  }

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
    out.observed = value;
    if (drift.lastScore > s.score) {
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
    const w = new SnapshotWriter(SnapshotKind.combined, SNAPSHOT_VERSION, 4 + inner.length + DRIFT_CORE_BYTES);
    w.u32(inner.length);
    w.raw(inner);
    this.drift.write(w);
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
  reuseResult?: boolean;
}

/**
 * The factory for a rule's `detector` and `direction` choice: 'seasonal' (sudden anomalies
 * against the time-of-day/week baseline), 'drift' (slow sustained change, deseasonalised) or
 * 'combined' (both; the larger score wins).
 */
export function detectorFactoryFor(choice: DetectorChoice, direction: DirectionChoice = 'both', tuning: DetectorTuning = {}): DetectorFactory {
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
