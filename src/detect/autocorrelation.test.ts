import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../../test/support/random.ts';
import { AUTOCORRELATION_DEFAULTS, AUTOCORRELATION_SLOTS, AutocorrelationModel, resolveAutocorrelationOptions } from './autocorrelation.ts';

/** feeds deviations into one series' state and returns the shift after each */
function shifts(deviations: readonly number[], options = {}): number[] {
  const model = new AutocorrelationModel(resolveAutocorrelationOptions(options));
  const s = new Array<number>(AUTOCORRELATION_SLOTS).fill(0);
  return deviations.map((d, i) => model.update(s, 0, i + 1, d));
}

const noise = (n: number, seed: number) => {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => gaussian(rand));
};

describe('autocorrelation shift', () => {
  it('white noise=>white noise: the short run agrees with the long run', () => {
    const out = shifts(noise(3000, 1));
    // the short run's correlation over ~40 points wanders by ~1/sqrt(40) around 0
    expect(Math.max(...out.slice(2500))).toBeLessThan(0.7);
    expect(out.slice(2500).reduce((a, b) => a + b, 0) / 500).toBeLessThan(0.25);
  });

  it('white noise=>oscillation: the shift rises towards |-1 - 0| within the short window', () => {
    const n = noise(3000, 2);
    const alternating = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? 1 : -1));
    const out = shifts([...n, ...alternating]);
    expect(out.at(-1)).toBeGreaterThan(0.8);
    expect(out.at(-1)).toBeLessThanOrEqual(2);
  });

  it('white noise=>smooth wander: a positively correlated stretch stands out too', () => {
    const rand = mulberry32(3);
    let x = 0;
    const smooth = Array.from({ length: 80 }, () => (x = 0.95 * x + 0.3 * gaussian(rand)));
    const out = shifts([...noise(3000, 4), ...smooth]);
    expect(out.at(-1)).toBeGreaterThan(0.5);
  });

  it('scale-free: the same shape at 1000x the size gives the same shift', () => {
    const n = noise(500, 5);
    const a = shifts(n);
    const b = shifts(n.map((v) => v * 1000));
    for (let i = 10; i < 500; i += 37) expect(b[i]).toBeCloseTo(a[i] as number, 9);
  });

  it('a constant series has no correlation to shift (no 0/0)', () => {
    const out = shifts(Array.from({ length: 100 }, () => 0));
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('the first point returns 0 and later points are finite', () => {
    const out = shifts(noise(100, 6));
    expect(out[0]).toBe(0);
    expect(out.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('rejects bad options by name', () => {
    expect(() => resolveAutocorrelationOptions({ shortPoints: 0 })).toThrow(/shortPoints/);
    expect(() => resolveAutocorrelationOptions({ longPoints: Number.NaN })).toThrow(/longPoints/);
    expect(resolveAutocorrelationOptions()).toEqual(AUTOCORRELATION_DEFAULTS);
  });
});
