import { describe, expect, it } from 'vitest';
import { createForecaster, criticalScore, type ForecastOptions } from './forecast.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEP = 5 * 60_000;
const T0 = Date.UTC(2024, 4, 6, 7, 0);

/** a seeded Gaussian source, so every table row is reproducible */
function gaussian(seed: number): () => number {
  let s = seed;
  const u = () => (s = (s * 16807) % 2147483647) / 2147483647;
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/** 3 flat days with a daily pattern, then a linear climb from 0.4 that reaches 1.0 after `days` (trend only) */
function series(days: number) {
  const onset = T0 + 3 * DAY;
  const slopePerDay = 0.6 / days;
  const value = (t: number) =>
    0.4 +
    0.05 * Math.sin((2 * Math.PI * t) / DAY) +
    0.02 * Math.cos((4 * Math.PI * t) / DAY) +
    (t > onset ? (slopePerDay * (t - onset)) / DAY : 0);
  // the true crossing of the noise-free series, to the minute
  let crossMs = onset;
  while (value(crossMs) < 1) crossMs += 60_000;
  return { onset, value, crossMs };
}

const options: ForecastOptions = { limit: 1, when: 'above', horizonMs: 14 * DAY };

describe('createForecaster', () => {
  it.each([
    [2, 0.005],
    [2, 0.01],
    [2, 0.03],
    [4, 0.005],
    [4, 0.01],
    [4, 0.03],
    [8, 0.005],
    [8, 0.01],
    [8, 0.03],
  ])('climb reaching the limit in %i days, noise %f: the prediction made halfway is within 15%% of the remaining time', (days, noise) => {
    const { onset, value, crossMs } = series(days);
    const half = onset + Math.round((crossMs - onset) / 2 / STEP) * STEP;
    const g = gaussian(days * 1000 + noise * 1e4);
    const f = createForecaster(options);
    let fc = f.update(T0, value(T0));
    for (let t = T0 + STEP; t <= half; t += STEP) fc = f.update(t, value(t) + noise * g());
    const remaining = crossMs - half;
    expect(Math.abs(fc.crossingMs - crossMs)).toBeLessThanOrEqual(0.15 * remaining);
    // the interval brackets the estimate
    expect(fc.lowMs).toBeLessThanOrEqual(fc.crossingMs);
    expect(fc.highMs).toBeGreaterThanOrEqual(fc.crossingMs);
    expect(fc.score).toBeGreaterThan(0.5);
  });

  it.each([0.005, 0.03])('flat series with a daily pattern and noise %f predicts no crossing over two weeks', (noise) => {
    const g = gaussian(7);
    const f = createForecaster({ ...options, horizonMs: 7 * DAY });
    let predicted = 0;
    for (let t = T0; t < T0 + 14 * DAY; t += STEP) {
      const fc = f.update(t, 0.6 + 0.1 * Math.sin((2 * Math.PI * t) / DAY) + noise * g());
      if (fc.score > 0) predicted += 1;
    }
    expect(predicted).toBe(0);
  });

  it('predicts nothing before a day of history', () => {
    const f = createForecaster(options);
    for (let t = T0; t < T0 + DAY - STEP; t += STEP) expect(Number.isNaN(f.update(t, 0.5 + (t - T0) / DAY).crossingMs)).toBe(true);
  });

  it("when: 'below' forecasts a fall to the limit (headroom running out)", () => {
    const f = createForecaster({ limit: 0, when: 'below', horizonMs: 7 * DAY });
    let fc = f.update(T0, 1);
    // falls 0.2 a day from 1.0: reaches 0 after 5 days; asked after 2.5 days
    for (let t = T0 + STEP; t <= T0 + 2.5 * DAY; t += STEP) fc = f.update(t, 1 - (0.2 * (t - T0)) / DAY);
    expect(Math.abs(fc.crossingMs - (T0 + 5 * DAY)) / (2.5 * DAY)).toBeLessThan(0.05);
  });

  it('score: 0.5 at the horizon rising to 1 at the limit; critical threshold from criticalWithin', () => {
    const f = createForecaster({ limit: 1, when: 'above', horizonMs: 4 * DAY });
    let fc = f.update(T0, 0);
    for (let t = T0 + STEP; t <= T0 + 2 * DAY; t += STEP) fc = f.update(t, (0.25 * (t - T0)) / DAY);
    // 0.5 now, 0.25 a day: 2 days left of a 4-day horizon
    expect(fc.score).toBeCloseTo(0.75, 2);
    expect(criticalScore(4 * DAY, DAY)).toBeCloseTo(0.875);
  });

  it('a value already past the limit scores 1 (crossing now)', () => {
    const f = createForecaster(options);
    let fc = f.update(T0, 1.2);
    for (let t = T0 + STEP; t <= T0 + 2 * DAY; t += STEP) fc = f.update(t, 1.2);
    expect(fc.score).toBe(1);
    expect(fc.crossingMs).toBe(T0 + 2 * DAY);
  });

  it('restores from a snapshot and continues exactly', () => {
    const { value } = series(4);
    const a = createForecaster(options);
    for (let t = T0; t < T0 + 4 * DAY; t += STEP) a.update(t, value(t));
    const b = createForecaster(options, a.snapshot());
    const t = T0 + 4 * DAY;
    expect(b.update(t, value(t))).toEqual(a.update(t, value(t)));
    // sums, coefficients and the cached evaluation: about 1.1 KB for a series with a limit
    expect(a.stateBytes).toBeLessThan(1200);
  });

  it.each([NaN, Infinity, -Infinity])('skips a non-finite value (%f) without throwing or forgetting', (bad) => {
    const f = createForecaster(options);
    for (let t = T0; t < T0 + 2 * DAY; t += STEP) f.update(t, 0.5);
    expect(() => f.update(T0 + 2 * DAY, bad)).not.toThrow();
    expect(f.update(T0 + 2 * DAY, 0.5).fitted).toBeCloseTo(0.5, 6);
  });
});
