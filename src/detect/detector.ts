/**
 * The streaming detector interface. A detector scores one series online, point by point, in
 * event time (the timestamps of the data are its only clock). It is pure: no I/O, no Date.now().
 * Its state can be written to bytes and read back, so a restart continues where it left off.
 */
import type { AnomalyScore } from '../domain/types.ts';

export interface SeriesDetector {
  /** scores one point; points arrive in non-decreasing time order (late points are the caller's problem) */
  update(tsMs: number, value: number): AnomalyScore;
  /**
   * optional allocation-free variant of `update`: writes the score into `out` and returns it
   * (the hot path uses it when present)
   */
  updateInto?(tsMs: number, value: number, out: AnomalyScore): AnomalyScore;
  /** serialises the whole state */
  snapshot(): Uint8Array;
  /** approximate bytes of state held in memory */
  readonly stateBytes: number;
}

export interface DetectorFactory {
  /** a fresh detector, or one restored from `snapshot()` bytes */
  create(snapshot?: Uint8Array): SeriesDetector;
}
