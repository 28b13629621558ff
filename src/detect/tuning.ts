/**
 * The tuning constants of the detector the NAB bench scores, as one list, for its sensitivity
 * table (`npm run bench:nab -- --sensitivity`): each knob names a constant, its default, and the
 * options that multiply it by a factor with every other constant at its default.
 */
import type { DetectorTuning } from './combined.ts';
import { LIKELIHOOD_MIN_POINTS } from './combined.ts';
import { AUTOCORRELATION_DEFAULTS } from './autocorrelation.ts';
import { LEVEL_SHIFT_DEFAULTS } from './level-shift.ts';
import { LIKELIHOOD_DEFAULTS } from './likelihood.ts';
import { RANGE_DEFAULTS } from './range.ts';
import type { OnsetOptions } from './onset.ts';
import { ONSET_DEFAULTS } from './onset.ts';
import { SEASONAL_DEFAULTS } from './seasonal-baseline.ts';

/** One tuning constant and how to move it. */
export interface SensitivityKnob {
  /** where the constant lives, e.g. `likelihood.shortPoints` */
  name: string;
  /** its default */
  value: number;
  /** the options with this constant multiplied by `factor` (all others at their defaults) */
  tuning(factor: number): { detector: DetectorTuning; onset: OnsetOptions };
}

const knob = (
  name: string,
  value: number,
  make: (v: number) => { detector?: DetectorTuning; onset?: OnsetOptions },
  integer = false,
): SensitivityKnob => ({
  name,
  value,
  tuning: (factor) => {
    const v = integer ? Math.round(value * factor) : value * factor;
    const t = make(v);
    return { detector: t.detector ?? {}, onset: t.onset ?? {} };
  },
});

/** Every constant that shapes the NAB score of the combined detector's likelihood output. */
export const SENSITIVITY_KNOBS: readonly SensitivityKnob[] = [
  knob('likelihood.shortPoints', LIKELIHOOD_DEFAULTS.shortPoints, (v) => ({ detector: { likelihood: { shortPoints: v } } })),
  knob('likelihood.longPoints', LIKELIHOOD_DEFAULTS.longPoints, (v) => ({ detector: { likelihood: { longPoints: v } } })),
  knob('likelihood.rawCap', LIKELIHOOD_DEFAULTS.rawCap, (v) => ({ detector: { likelihood: { rawCap: v } } })),
  knob('levelShift.longPoints', LEVEL_SHIFT_DEFAULTS.longPoints, (v) => ({ detector: { levelShift: { longPoints: v } } })),
  knob('levelShift.recentPoints', LEVEL_SHIFT_DEFAULTS.recentPoints, (v) => ({ detector: { levelShift: { recentPoints: v } } })),
  knob('range.tolerance', RANGE_DEFAULTS.tolerance, (v) => ({ detector: { range: { tolerance: v } } })),
  knob('range.warmupPoints', RANGE_DEFAULTS.warmupPoints, (v) => ({ detector: { range: { warmupPoints: v } } }), true),
  knob('range.levelSkipPoints', RANGE_DEFAULTS.levelSkipPoints, (v) => ({ detector: { range: { levelSkipPoints: v } } }), true),
  knob('autocorrelation.shortPoints', AUTOCORRELATION_DEFAULTS.shortPoints, (v) => ({
    detector: { autocorrelation: { shortPoints: v } },
  })),
  knob('autocorrelation.longPoints', AUTOCORRELATION_DEFAULTS.longPoints, (v) => ({ detector: { autocorrelation: { longPoints: v } } })),
  knob('autocorrelation.zHandicap', AUTOCORRELATION_DEFAULTS.zHandicap, (v) => ({ detector: { autocorrelation: { zHandicap: v } } })),
  knob('likelihoodMinPoints', LIKELIHOOD_MIN_POINTS, (v) => ({ detector: { likelihoodMinPoints: v } })),
  knob('seasonal.levelTauMs', SEASONAL_DEFAULTS.levelTauMs, (v) => ({ detector: { seasonal: { levelTauMs: v } } })),
  knob('seasonal.seasonalMemoryHours', SEASONAL_DEFAULTS.seasonalMemoryHours, (v) => ({
    detector: { seasonal: { seasonalMemoryHours: v } },
  })),
  knob('onset.fireAt', ONSET_DEFAULTS.fireAt, (v) => ({ onset: { fireAt: v } })),
  knob('onset.refractoryPoints', ONSET_DEFAULTS.refractoryPoints, (v) => ({ onset: { refractoryPoints: v } }), true),
  knob('onset.rearmBelow', ONSET_DEFAULTS.rearmBelow, (v) => ({ onset: { rearmBelow: v } })),
];
