/**
 * Range novelty: a value, or the recent level of the series, outside everything the series has
 * shown so far - beyond its running minimum or maximum by more than `tolerance` times the distance
 * between them. A CPU at 140% of its highest reading ever, a request count below anything seen, a
 * latency whose five-point mean climbs past every earlier five-point mean.
 *
 * Why: the likelihood stage (likelihood.ts) judges how unusual the *recent level of surprise* is,
 * so the first point of an incident on a noisy series often moves it too little, and a series
 * that has been chaotic for a while has learned to expect surprise. A new extreme needs neither:
 * it is unusual by construction, at once, whatever the noise. Numenta added the same check
 * ("spatial anomaly", 5% tolerance) to their HTM detector for NAB; here it adds about 9 NAB points
 * (bench/nab.ts). The level range (the recent mean of `LevelShift`, about 5 points) catches a
 * shift that no single point makes extreme: a plateau just above the old ceiling.
 *
 * The range only grows: once a value has been seen it is never novel again (a series that
 * reaches a new normal above its old range flags once, at the crossing). Nothing is judged before
 * `warmupPoints` values (the range of the first few points says little), and the level range
 * starts to learn after `levelSkipPoints` values (the recent mean needs a few points to be one).
 *
 * State: five doubles of the detector's state array (min, max, level min, level max, values
 * learned), all 0 for a fresh series. Pure; no clock.
 */
import { NON_NEGATIVE, checkNumbers, withDefaults } from './options.ts';
import type { DetectorState } from './snapshot.ts';

/** The `detector` name of a score that a range novelty produced (see onset.ts: it is reported even during a refractory period). */
export const RANGE_DETECTOR = 'range';

/** Default options; see {@link RangeOptions}. */
export const RANGE_DEFAULTS = Object.freeze({
  /**
   * How far past the range a value must be, as a fraction of the range (max - min): 0.05 lets a
   * series creep a little beyond its old extremes without a flag (NAB: 0.04 and 0.06 move the score
   * by < 2 points; 0.2 loses ~3).
   */
  tolerance: 0.05,
  /** values learned before anything is judged (as the likelihood stage, LIKELIHOOD_MIN_POINTS) */
  warmupPoints: 150,
  /** values before the level range starts to learn (the recent mean is then a mean of several points) */
  levelSkipPoints: 20,
});

/** Options of {@link RangeNoveltyModel}. */
export interface RangeOptions {
  /** fraction of the range a value must exceed it by (default 0.05) */
  tolerance?: number;
  /** values learned before anything is judged (default 150) */
  warmupPoints?: number;
  /** values before the level range learns (default 20) */
  levelSkipPoints?: number;
}

/** slots, relative to the first */
const LO = 0;
const HI = 1;
const LEVEL_LO = 2;
const LEVEL_HI = 3;
const COUNT = 4;
/** Slots (doubles) of one series' state; a snapshot writes them as they are (`writeSlots`). */
export const RANGE_SLOTS = 5;
/** Bytes of state in a snapshot: five float64. */
export const RANGE_STATE_BYTES = RANGE_SLOTS * 8;

/** Validates options and fills in defaults; throws RangeError naming the bad option. */
export function resolveRangeOptions(options: RangeOptions = {}): Readonly<Required<RangeOptions>> {
  const o = withDefaults<Required<RangeOptions>>(RANGE_DEFAULTS, options);
  checkNumbers('range', o, ['tolerance', 'warmupPoints', 'levelSkipPoints'], NON_NEGATIVE);
  return Object.freeze(o);
}

/**
 * Range novelty with one set of options, working on the state of any number of series (one per
 * factory).
 */
export class RangeNoveltyModel {
  constructor(readonly o: Readonly<Required<RangeOptions>>) {}

  /**
   * Judges the next point of the series whose state is at `s[at]`: `value` and `level` (the recent
   * mean of the values, including this one) against the ranges learned before it, then learns
   * them. Returns +1 when the value is above its range, -1 below; +2 / -2 when the value is
   * inside its range but the level is above / below its own; 0 when neither (or still warming
   * up). `value` and `level` must be finite.
   */
  update(s: DetectorState, at: number, value: number, level: number): number {
    const o = this.o;
    const n = (s[at + COUNT] as number) + 1;
    s[at + COUNT] = n;
    let novel = 0;
    if (n === 1) {
      s[at + LO] = value;
      s[at + HI] = value;
    } else {
      const lo = s[at + LO] as number;
      const hi = s[at + HI] as number;
      if (n > o.warmupPoints && hi > lo) {
        const margin = (hi - lo) * o.tolerance;
        if (value > hi + margin) novel = 1;
        else if (value < lo - margin) novel = -1;
      }
      if (value < lo) s[at + LO] = value;
      else if (value > hi) s[at + HI] = value;
    }
    if (n === o.levelSkipPoints + 1) {
      s[at + LEVEL_LO] = level;
      s[at + LEVEL_HI] = level;
    } else if (n > o.levelSkipPoints) {
      const lo = s[at + LEVEL_LO] as number;
      const hi = s[at + LEVEL_HI] as number;
      if (novel === 0 && n > o.warmupPoints && hi > lo) {
        const margin = (hi - lo) * o.tolerance;
        if (level > hi + margin) novel = 2;
        else if (level < lo - margin) novel = -2;
      }
      if (level < lo) s[at + LEVEL_LO] = level;
      else if (level > hi) s[at + LEVEL_HI] = level;
    }
    return novel;
  }
}
