/**
 * Autocorrelation shift: the series' short-run lag-1 autocorrelation against its long-run one. A
 * raw surprise measure for the likelihood stage (likelihood.ts), like |seasonal z| and |level z|,
 * but of the series' *texture* rather than its size: a noisy series that starts to oscillate or
 * switch between two levels (the correlation of consecutive deviations turns strongly negative or
 * positive), one that goes smooth or flat, a sensor that starts to stick. None of these has to
 * move a value or the level outside what the series has shown, so the other measures miss them.
 *
 * Deviations are taken from the recent level (the level-shift stage's ~5-point mean, including
 * the point), r_t = value - level; the autocorrelation is rho = E[r_t r_t-1] / E[r_t^2], each
 * expectation an exponentially weighted mean over about `shortPoints` points (short run) and
 * `longPoints` points (long run; plain averages until then). The raw measure is
 * |rho_short - rho_long|, in [0, 2].
 *
 * NAB: adding its likelihood (with a one-sigma handicap, `zHandicap`) to the detector moved
 * the scores by +0.9 / +0.1 / +1.2 (standard / low FP / low FN); a short window of 32 or 48 points
 * instead of 40 stays within 1.
 *
 * State: five doubles of the detector's state array (the last deviation and the four running
 * means), all 0 for a fresh series; the point count is the caller's. Pure; no clock.
 */
import { FINITE, checkNumbers, withDefaults } from './options.ts';
import type { NumberRule } from './options.ts';
import type { DetectorState } from './snapshot.ts';

/** Default options; see {@link AutocorrelationOptions}. */
export const AUTOCORRELATION_DEFAULTS = Object.freeze({
  /** short run, in points: long enough for a correlation to mean something (NAB: 30 loses ~1.5 points, 40-45 the same) */
  shortPoints: 40,
  /** long run, in points (the likelihood's long run) */
  longPoints: 2000,
  /**
   * Standard deviations the shift's likelihood counts less than the other streams' in the combined
   * detector (its z is lowered by this before the largest is taken): a series' texture wanders more
   * than its size, so the same z is weaker evidence. NAB: 0.75 and 1.25 stay within 1.5 points of
   * 1; 0 (no handicap) costs ~4 points of low FP.
   */
  zHandicap: 1,
});

/** Options of {@link AutocorrelationModel}. */
export interface AutocorrelationOptions {
  /** short run, in points (default 40) */
  shortPoints?: number;
  /** long run, in points (default 2000) */
  longPoints?: number;
  /** sigmas the shift's likelihood counts less than the other streams' (default 1) */
  zHandicap?: number;
}

// slots, relative to the first
const LAST = 0;
const SHORT_LAG = 1;
const SHORT_SQ = 2;
const LONG_LAG = 3;
const LONG_SQ = 4;
/** Slots (doubles) of one series' state; a snapshot writes them as they are (`writeSlots`). */
export const AUTOCORRELATION_SLOTS = 5;
/** Bytes of state in a snapshot: five float64. */
export const AUTOCORRELATION_STATE_BYTES = AUTOCORRELATION_SLOTS * 8;
/** Added to the mean squares so a constant series has a correlation of 0, not 0/0. */
const TINY = 1e-12;

/** the windows' rule: at least one point */
const AT_LEAST_ONE: NumberRule = { says: 'a number >= 1', ok: (v) => v >= 1 };

/** Validates options and fills in defaults; throws RangeError naming the bad option. */
export function resolveAutocorrelationOptions(options: AutocorrelationOptions = {}): Readonly<Required<AutocorrelationOptions>> {
  const o = withDefaults<Required<AutocorrelationOptions>>(AUTOCORRELATION_DEFAULTS, options);
  checkNumbers('autocorrelation', o, ['shortPoints', 'longPoints'], AT_LEAST_ONE);
  checkNumbers('autocorrelation', o, ['zHandicap'], FINITE);
  return Object.freeze(o);
}

/** The autocorrelation shift with one set of options, for the state of any number of series (one per factory). */
export class AutocorrelationModel {
  constructor(readonly o: Readonly<Required<AutocorrelationOptions>>) {}

  /**
   * Learns point number `n` (1 for the first) of the series whose state is at `s[at]`, given as
   * its deviation from the recent level, and returns |rho_short - rho_long| after it (0 for the
   * first point). `deviation` must be finite.
   */
  update(s: DetectorState, at: number, n: number, deviation: number): number {
    const o = this.o;
    const last = s[at + LAST] as number;
    s[at + LAST] = deviation;
    if (n === 1) return 0;
    const m = n - 1; // products seen, this one included
    const shortGain = m < o.shortPoints ? 1 / m : 1 / o.shortPoints;
    const longGain = m < o.longPoints ? 1 / m : 1 / o.longPoints;
    const lag = deviation * last;
    const sq = deviation * deviation;
    const shortLag = (s[at + SHORT_LAG] as number) + shortGain * (lag - (s[at + SHORT_LAG] as number));
    const shortSq = (s[at + SHORT_SQ] as number) + shortGain * (sq - (s[at + SHORT_SQ] as number));
    const longLag = (s[at + LONG_LAG] as number) + longGain * (lag - (s[at + LONG_LAG] as number));
    const longSq = (s[at + LONG_SQ] as number) + longGain * (sq - (s[at + LONG_SQ] as number));
    s[at + SHORT_LAG] = shortLag;
    s[at + SHORT_SQ] = shortSq;
    s[at + LONG_LAG] = longLag;
    s[at + LONG_SQ] = longSq;
    const shift = shortLag / (shortSq + TINY) - longLag / (longSq + TINY);
    return shift < 0 ? -shift : shift;
  }
}
