/**
 * The state both the likelihood stage and the level-shift statistics keep: an exponentially
 * weighted long-run mean and variance and a short-run ("recent") mean, three slots of a detector's
 * state array. The point count that drives their gains is the caller's (one count can serve
 * several streams that learn in step). Snapshot layout: 4 float64 (mean, variance, recent, count),
 * no header.
 */
import type { DetectorState, SnapshotReader, SnapshotWriter } from './snapshot.ts';

/** slot of the long-run mean, relative to the first slot */
export const EW_MEAN = 0;
/** slot of the long-run variance */
export const EW_VARIANCE = 1;
/** slot of the recent mean */
export const EW_RECENT = 2;
/** Slots (doubles) of one EW Gaussian's state. */
export const EW_GAUSSIAN_SLOTS = 3;
/** Bytes written by {@link writeEwGaussian}. */
export const EW_GAUSSIAN_STATE_BYTES = 4 * 8;

/** moves the long-run mean and variance at `s[at]` by `d` (value - mean) with weight `gain` (West 1979, one pass) */
export function ewLearn(s: DetectorState, at: number, d: number, gain: number): void {
  s[at + EW_MEAN] = (s[at + EW_MEAN] as number) + gain * d;
  s[at + EW_VARIANCE] = (1 - gain) * ((s[at + EW_VARIANCE] as number) + gain * d * d);
}

/** writes the state at `s[at]` and its point count ({@link EW_GAUSSIAN_STATE_BYTES} bytes, no header) */
export function writeEwGaussian(w: SnapshotWriter, s: DetectorState, at: number, points: number): void {
  w.f64(s[at + EW_MEAN] as number);
  w.f64(s[at + EW_VARIANCE] as number);
  w.f64(s[at + EW_RECENT] as number);
  w.f64(points);
}

/** reads a state written by {@link writeEwGaussian} into `s[at]` and returns its point count */
export function readEwGaussian(r: SnapshotReader, s: DetectorState, at: number): number {
  s[at + EW_MEAN] = r.f64();
  s[at + EW_VARIANCE] = r.f64();
  s[at + EW_RECENT] = r.f64();
  return r.f64();
}
