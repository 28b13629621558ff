/**
 * Long-run Gaussian and level shift: two raw surprise measures of a value against the long-run
 * distribution of the series (no seasonality assumed, so they work on series whose period, time
 * zone or sampling is unknown, and on series with none).
 *
 * - `valueZ`: (value - long-run mean) / long-run sigma: a point outside the range the series
 *   usually spans (NAB's "windowed Gaussian" idea, streaming and without a window buffer);
 * - `levelZ`: (recent mean - long-run mean) / long-run sigma, the recent mean being an
 *   exponentially weighted mean over about `recentPoints` points: a level shift or a sustained
 *   excursion (a one-sided CUSUM-like statistic that forgets), which a single noisy point does
 *   not move much.
 *
 * Both are signed; their magnitudes are raw scores for the likelihood stage (likelihood.ts), which judges how unusual their
 * recent level is; they are not probabilities themselves. The long-run mean and variance are
 * exponentially weighted over about `longPoints` points (plain averages until then), and each
 * point is judged against them before it is learned.
 *
 * State: three doubles of the detector's state array (mean, variance, recent mean) and the count
 * of values learned, kept by the caller. Pure; no clock.
 */
import { POSITIVE, checkNumbers, withDefaults } from './options.ts';
import { EW_GAUSSIAN_SLOTS, EW_GAUSSIAN_STATE_BYTES, EW_MEAN, EW_RECENT, EW_VARIANCE, ewLearn } from './ew-gaussian.ts';
import type { DetectorState } from './snapshot.ts';

/** Default options; see {@link LevelShiftOptions}. */
export const LEVEL_SHIFT_DEFAULTS = Object.freeze({
  /**
   * Long-run window, in points (about ten days of 5-minute data). Longer than the likelihood's
   * long run so that a level shift stays visible here while the likelihood learns it.
   * NAB: 300 loses ~7 points, 1000 ~2.
   */
  longPoints: 3000,
  /** recent window of the level, in points: five points average out one noisy sample */
  recentPoints: 5,
});

/** Options of {@link LevelShift}. */
export interface LevelShiftOptions {
  /** long-run window, in points (default 3000) */
  longPoints?: number;
  /** recent window of the level, in points (default 5) */
  recentPoints?: number;
}

/** Smallest long-run sigma: keeps a constant series from dividing by zero (any change is then very surprising). */
export const LEVEL_SHIFT_MIN_SIGMA = 1e-9;
/** Slots (doubles) of one series' state. */
export const LEVEL_SHIFT_SLOTS = EW_GAUSSIAN_SLOTS;
/** Bytes of state in a snapshot: four float64 (with the count). */
export const LEVEL_SHIFT_STATE_BYTES = EW_GAUSSIAN_STATE_BYTES;

/** Validates options and fills in defaults; throws RangeError naming the bad option. */
export function resolveLevelShiftOptions(options: LevelShiftOptions = {}): Readonly<Required<LevelShiftOptions>> {
  const o = withDefaults<Required<LevelShiftOptions>>(LEVEL_SHIFT_DEFAULTS, options);
  checkNumbers('level shift', o, ['longPoints', 'recentPoints'], POSITIVE);
  return Object.freeze(o);
}

/**
 * The long-run Gaussian and level-shift statistics (see the module comment) with one set of
 * options, working on the state of any number of series; one per factory. After {@link update},
 * `valueZ` and `levelZ` describe that point until the next update.
 */
export class LevelShiftModel {
  /** (value - long-run mean) / sigma of the last point, signed (0 for the first point) */
  valueZ = 0;
  /** (recent mean - long-run mean) / sigma of the last point, signed (0 for the first point) */
  levelZ = 0;
  /** the recent mean (about `recentPoints` points) after the last point */
  level = 0;

  constructor(readonly o: Readonly<Required<LevelShiftOptions>>) {}

  /**
   * Judges `value` as point number `n` (1 for the first) of the series whose state is at `s[at]`
   * against the long-run distribution, then learns it; `value` must be finite.
   */
  update(s: DetectorState, at: number, n: number, value: number): void {
    const o = this.o;
    const recentGain = n < o.recentPoints ? 1 / n : 1 / o.recentPoints;
    const recent = (s[at + EW_RECENT] as number) + recentGain * (value - (s[at + EW_RECENT] as number));
    s[at + EW_RECENT] = recent;
    this.level = recent;
    if (n === 1) {
      s[at + EW_MEAN] = value;
      this.valueZ = 0;
      this.levelZ = 0;
      return;
    }
    const mean = s[at + EW_MEAN] as number;
    const sigma = Math.sqrt(s[at + EW_VARIANCE] as number) + LEVEL_SHIFT_MIN_SIGMA;
    const d = value - mean;
    this.valueZ = d / sigma;
    this.levelZ = (recent - mean) / sigma;
    const gain = n < o.longPoints ? 1 / n : 1 / o.longPoints;
    ewLearn(s, at, d, gain);
  }
}
