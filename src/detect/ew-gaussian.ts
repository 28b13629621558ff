/**
 * The state both the likelihood stage and the level-shift statistics keep: an exponentially
 * weighted long-run mean and variance, a short-run ("recent") mean and a point count, with one
 * snapshot layout (4 float64, no header).
 */
import type { SnapshotReader, SnapshotWriter } from './snapshot.ts';

/** Bytes written by {@link EwGaussian.write}. */
export const EW_GAUSSIAN_STATE_BYTES = 4 * 8;

/** Long-run mean/variance + recent mean of one stream; subclasses decide what they judge. */
export abstract class EwGaussian {
  protected mean = 0;
  protected variance = 0;
  protected recent = 0;
  protected points = 0;

  /** points learned so far */
  get count(): number {
    return this.points;
  }

  /** moves the long-run mean and variance by `d` (value - mean) with weight `gain` (West 1979, one pass) */
  protected learn(d: number, gain: number): void {
    this.mean += gain * d;
    this.variance = (1 - gain) * (this.variance + gain * d * d);
  }

  /** writes the state ({@link EW_GAUSSIAN_STATE_BYTES} bytes, no header) */
  write(w: SnapshotWriter): void {
    w.f64(this.mean);
    w.f64(this.variance);
    w.f64(this.recent);
    w.f64(this.points);
  }

  /** reads the state written by {@link write} */
  read(r: SnapshotReader): void {
    this.mean = r.f64();
    this.variance = r.f64();
    this.recent = r.f64();
    this.points = r.f64();
  }
}
