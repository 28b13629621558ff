/**
 * Anomaly likelihood: turns a stream of raw anomaly scores (any non-negative surprise measure)
 * into "how unusual is the recent level of surprise for this series", after Ahmad, Lavin, Purdy
 * & Agha 2017 ("Unsupervised real-time anomaly detection for streaming data", the post-processing
 * that lifts Numenta's HTM by ~16 NAB points).
 *
 * - the long-run distribution of the raw score is a Gaussian with an exponentially weighted mean
 *   and variance over about `longPoints` points (plain averages until then);
 * - the recent level is an exponentially weighted mean over about `shortPoints` points;
 * - the output is the Gaussian upper-tail probability of the recent level, as -log10(tail):
 *   0.3 for an ordinary level, 2 for a 1-in-100 level, 5 for one in 100 000.
 *
 * Why it helps: a raw score that is often high on a noisy series (every point a 3-sigma
 * surprise) is not alarming there, while the same raw score on a quiet series is; and a short run
 * of raised surprise counts more than one isolated spike. It also puts every series on one scale
 * (a probability), so one threshold works across series of different noise.
 *
 * Raw scores are capped at `rawCap` before learning, so one enormous raw score cannot inflate
 * the long-run variance for thousands of points (and blind the stage).
 *
 * State: three doubles of the detector's state array (mean, variance, recent mean) and the count
 * of raw scores learned, kept by the caller. Pure; no clock.
 */
import { POSITIVE, checkNumbers, withDefaults } from './options.ts';
import { EW_GAUSSIAN_SLOTS, EW_GAUSSIAN_STATE_BYTES, EW_MEAN, EW_RECENT, EW_VARIANCE, ewLearn } from './ew-gaussian.ts';
import type { DetectorState } from './snapshot.ts';

/** Default options; see {@link LikelihoodOptions}. */
export const LIKELIHOOD_DEFAULTS = Object.freeze({
  /**
   * Recent window, in points. HTM uses 10; here 20, because the sudden single-point anomalies
   * that need a short window are caught at once by the range novelty (range.ts) and the seasonal
   * score, and a longer window lets fewer noise bursts through (NAB, with the range novelty: 10
   * scores ~5 points below 20, 16 and 24 within ~2.5).
   */
  shortPoints: 20,
  /**
   * Long-run window, in points (about a week of 5-minute data). Long enough that an incident of
   * a few hours does not become the norm while it lasts.
   */
  longPoints: 2000,
  /** raw scores above this are learned as this (raw scores here are |z|-like, so 10 sigmas) */
  rawCap: 10,
});

/** Options of {@link AnomalyLikelihood}. */
export interface LikelihoodOptions {
  /** recent window, in points (default 10) */
  shortPoints?: number;
  /** long-run window, in points (default 2000) */
  longPoints?: number;
  /** raw scores are capped here (default 10) */
  rawCap?: number;
}

/** Smallest long-run standard deviation, in raw-score units: a constant raw score is not a zero-width Gaussian. */
export const LIKELIHOOD_MIN_SIGMA = 1e-3;
/** Slots (doubles) of one stream's state. */
export const LIKELIHOOD_SLOTS = EW_GAUSSIAN_SLOTS;
/** Bytes of one stream's state in a snapshot: four float64 (with its count). */
export const LIKELIHOOD_STATE_BYTES = EW_GAUSSIAN_STATE_BYTES;

/**
 * erfc(x), Numerical Recipes' Chebyshev fit (fractional error below 1.2e-7 everywhere), so the
 * tail keeps its relative precision far out (erfc(30) ~ 1e-393 underflows to 0 only past ~26.5).
 */
export function erfc(x: number): number {
  const z = x < 0 ? -x : x;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** -log10 of the standard normal upper tail P(Z > z); finite for every finite z (at most 300). */
export function tailLog10(z: number): number {
  if (!(z > -40)) return 0;
  const tail = 0.5 * erfc(z / Math.SQRT2);
  if (!(tail > 1e-300)) return 300;
  return -Math.log10(tail);
}

/** Validates likelihood options and fills in defaults; throws RangeError naming the bad option. */
export function resolveLikelihoodOptions(options: LikelihoodOptions = {}): Readonly<Required<LikelihoodOptions>> {
  const o = withDefaults<Required<LikelihoodOptions>>(LIKELIHOOD_DEFAULTS, options);
  checkNumbers('likelihood', o, ['shortPoints', 'longPoints', 'rawCap'], POSITIVE);
  return Object.freeze(o);
}

/**
 * The likelihood stage (see the module comment) with one set of options, working on the state of
 * any number of raw-score streams (three slots each); one per factory.
 */
export class LikelihoodModel {
  constructor(readonly o: Readonly<Required<LikelihoodOptions>>) {}

  /**
   * Learns one raw score as point number `n` (1 for the first) of the stream whose state is at
   * `s[at]`, and returns -log10 of the tail probability of the recent level.
   */
  update(s: DetectorState, at: number, n: number, raw: number): number {
    return tailLog10(this.updateZ(s, at, n, raw));
  }

  /**
   * Like {@link update}, but returns the z of the recent level against the long-run distribution
   * (-Infinity for the first point). The tail is monotone in z, so a caller with several streams
   * can take the largest z and compute one tail (the transcendental functions are most of the cost).
   */
  updateZ(s: DetectorState, at: number, n: number, raw: number): number {
    const o = this.o;
    let r = raw;
    // the `!(<)` form also maps NaN to the cap's opposite: NaN is not a surprise, learn it as 0
    if (!(r >= 0)) r = 0;
    else if (r > o.rawCap) r = o.rawCap;
    const longGain = n < o.longPoints ? 1 / n : 1 / o.longPoints;
    const shortGain = n < o.shortPoints ? 1 / n : 1 / o.shortPoints;
    const recent = (s[at + EW_RECENT] as number) + shortGain * (r - (s[at + EW_RECENT] as number));
    s[at + EW_RECENT] = recent;
    // judged against the distribution before this point (no self-influence)
    const mean = s[at + EW_MEAN] as number;
    const sigma = Math.sqrt(s[at + EW_VARIANCE] as number) + LIKELIHOOD_MIN_SIGMA;
    const out = n === 1 ? -Infinity : (recent - mean) / sigma;
    // exponentially weighted mean and variance (West 1979 form: stable, one pass)
    ewLearn(s, at, r - mean, longGain);
    return out;
  }
}
