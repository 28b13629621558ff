import { describe, expect, it } from 'vitest';
import { gaussian as normal, mulberry32 } from '../../test/support/random.ts';
import { createForecaster, criticalScore, emptyForecast, forecasterFactory, INTERVAL_Z, type ForecastOptions } from './forecast.ts';

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

type ClimbKind = 'linear, white noise' | 'linear, AR(1) noise' | 'accelerating' | 'decelerating';
const CLIMB_KINDS: readonly ClimbKind[] = ['linear, white noise', 'linear, AR(1) noise', 'accelerating', 'decelerating'];

/**
 * A random capacity series towards a limit of 100 (the kinds the engine meets): 1-3 flat days,
 * then a climb that the trend alone would take 2-10 days to finish, bending by +-20% over that
 * time for the accelerating/decelerating kinds; a daily pattern of 0-30% of the starting level
 * (a smooth wave, or a business-hours peak that 3 harmonics do not fit exactly); noise of 1-5%
 * of the level, white or AR(1) with a correlation time of 5 min to 2 h; 1- or 5-minute points.
 * `crossMs` is when the noise-free series first reaches the limit.
 */
function syntheticClimb(seed: number, kind: ClimbKind) {
  const r = mulberry32(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * r();
  const stepMs = r() < 0.5 ? 60_000 : 5 * 60_000;
  const t0 = T0 + Math.floor(u(0, 24 * 60)) * 60_000;
  const onset = t0 + Math.round((u(1, 3) * DAY) / stepMs) * stepMs;
  const level0 = u(30, 60);
  const days = u(2, 10);
  const slopePerDay = (100 - level0) / days;
  const bend = kind === 'accelerating' ? 0.2 : kind === 'decelerating' ? -0.2 : 0;
  const amp = u(0, 0.3) * level0;
  const peaked = r() < 0.5;
  const phase = u(0, 2 * Math.PI);
  const noiseSd = u(0.01, 0.05) * level0;
  const ar = kind === 'linear, AR(1) noise' || (bend !== 0 && r() < 0.5);
  const tauMs = ar ? Math.exp(u(Math.log(5 * 60_000), Math.log(2 * HOUR))) : 0;
  const pattern = (t: number) => {
    const ph = (2 * Math.PI * t) / DAY + phase;
    if (!peaked) return (Math.sin(ph) + 0.3 * Math.sin(2 * ph + 1)) / 1.25;
    return (2 * (Math.exp(3 * Math.cos(ph)) - Math.exp(-3))) / (Math.exp(3) - Math.exp(-3)) - 1;
  };
  const value = (t: number) => {
    const d = Math.max(0, t - onset) / DAY;
    return level0 + slopePerDay * d * (1 + (bend * d) / (2 * days)) + amp * pattern(t);
  };
  let crossMs = onset;
  while (value(crossMs) < 100) crossMs += 60_000;
  const phi = tauMs > 0 ? Math.exp(-stepMs / tauMs) : 0;
  let e = normal(r);
  const noise = () => {
    const v = e;
    e = phi * e + Math.sqrt(1 - phi * phi) * normal(r);
    return noiseSd * v;
  };
  return { t0, stepMs, onset, crossMs, value, noise };
}

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
    // sums, residual sums, coefficients and the cached evaluation: about 1.1 KB for a series with a limit
    expect(a.stateBytes).toBeLessThan(1500);
  });

  it('a forecaster is one object holding its shared model and one plain array of doubles that does not grow with data', () => {
    const factory = forecasterFactory(options);
    const f = factory.create();
    const g = factory.create();
    const parts = (x: unknown) => Object.values(x as object);
    const state = () => parts(f).find((v): v is unknown[] => Array.isArray(v))!;
    // no closures or typed arrays per series: the model (shared by the factory's forecasters) and the state
    expect(parts(f)).toHaveLength(2);
    expect(parts(f).some((v) => typeof v === 'function' || ArrayBuffer.isView(v))).toBe(false);
    expect(parts(f).find((v) => !Array.isArray(v))).toBe(parts(g).find((v) => !Array.isArray(v)));
    // the state is what a snapshot holds (after its 4-byte header), 8 bytes a double
    const doubles = (f.snapshot().length - 4) / 8;
    expect(state()).toHaveLength(doubles);
    // heap: the object (24-byte header, 2 fields), the array (48 bytes of object and backing-store headers) and 8 a double
    expect(f.stateBytes).toBe(40 + 48 + 8 * doubles);
    // a forecaster of its own also holds its model (24-byte header, 6 fields)
    expect(createForecaster(options).stateBytes).toBe(f.stateBytes + 72);
    const { value } = series(4);
    for (let t = T0; t < T0 + 5 * DAY; t += STEP) f.update(t, value(t));
    // a gap, a non-finite value and a late point change nothing in the layout either
    f.update(T0 + 7 * DAY, NaN);
    f.update(T0 + 7 * DAY, value(T0 + 7 * DAY));
    f.update(T0 + 6 * DAY, 1);
    expect(parts(f)).toHaveLength(2);
    expect(state()).toHaveLength(doubles);
    expect(state().every((v) => typeof v === 'number')).toBe(true);
    expect(f.snapshot()).toHaveLength(4 + 8 * doubles);
    expect(f.stateBytes).toBe(40 + 48 + 8 * doubles);
  });

  it("a factory's forecasters give the same forecasts and snapshots as createForecaster's", () => {
    const factory = forecasterFactory(options);
    const a = createForecaster(options);
    const b = factory.create();
    const other = factory.create();
    const { value } = series(2);
    const g = gaussian(3);
    for (let t = T0; t < T0 + 5 * DAY; t += STEP) {
      const v = value(t) + 0.01 * g();
      // another series of the same factory in between: nothing of one leaks into the other
      other.update(t, 2 - v);
      expect(b.update(t, v)).toEqual(a.update(t, v));
    }
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(factory.create(a.snapshot()).update(T0 + 5 * DAY, 1)).toEqual(a.update(T0 + 5 * DAY, 1));
  });

  it(`interval (nominal ${Math.round(200 * normCdf(INTERVAL_Z) - 100)}%): contains the true crossing in >= 80% of forecasts made 25, 50 and 75% of the way up synthetic climbs, median width < 3/4 of the remaining time`, () => {
    // seeds not used when the interval was tuned (those were 1-300, measured again on 5001-5300)
    const widths: number[] = [];
    let inside = 0;
    let cases = 0;
    const fc = emptyForecast();
    for (let seed = 9001; seed <= 9080; seed++) {
      const kind = CLIMB_KINDS[seed % CLIMB_KINDS.length]!;
      const s = syntheticClimb(seed, kind);
      const f = createForecaster({ limit: 100, when: 'above', horizonMs: 7 * DAY });
      const asks = [0.25, 0.5, 0.75].map((q) => s.onset + q * (s.crossMs - s.onset));
      let ask = 0;
      for (let t = s.t0; ask < asks.length; t += s.stepMs) {
        // the forecast of the last point at or before the time asked
        while (ask < asks.length && t > asks[ask]!) {
          const remaining = s.crossMs - (t - s.stepMs);
          cases += 1;
          // no forecast at all counts as a miss
          if (fc.lowMs <= s.crossMs && s.crossMs <= fc.highMs) inside += 1;
          widths.push(Number.isFinite(fc.crossingMs) ? (fc.highMs - fc.lowMs) / remaining : Infinity);
          ask += 1;
        }
        f.update(t, s.value(t) + s.noise(), fc);
      }
    }
    expect(cases).toBe(240);
    expect(inside / cases).toBeGreaterThanOrEqual(0.8);
    // the interval the forecaster had before (slope +-1.96 standard errors) covered 21% here; an
    // interval from now to forever would cover all: it must stay narrow enough to say something
    widths.sort((a, b) => a - b);
    expect(widths[cases / 2]!).toBeLessThan(0.75);
  });

  it('restores a version-2 snapshot (before the interval kept residual sums): same estimate, an interval around it', () => {
    // written by the previous release after the first 4 days of series(4) (the test above)
    const v2 = Uint8Array.from(Buffer.from(V2_SNAPSHOT_BASE64, 'base64'));
    expect(v2[3]).toBe(2);
    const { value } = series(4);
    const fresh = createForecaster(options);
    for (let t = T0; t < T0 + 4 * DAY; t += STEP) fresh.update(t, value(t));
    const restored = createForecaster(options, v2);
    let a = fresh.update(T0 + 4 * DAY, value(T0 + 4 * DAY));
    let b = restored.update(T0 + 4 * DAY, value(T0 + 4 * DAY));
    // the sums it had are the same; the residual sums start empty, so only the interval may differ
    expect({ ...b, lowMs: 0, highMs: 0 }).toEqual({ ...a, lowMs: 0, highMs: 0 });
    for (let t = T0 + 4 * DAY + STEP; t <= T0 + 5 * DAY; t += STEP) {
      a = fresh.update(t, value(t));
      b = restored.update(t, value(t));
    }
    expect(b.crossingMs).toBe(a.crossingMs);
    expect(b.lowMs).toBeLessThanOrEqual(b.crossingMs);
    expect(b.highMs).toBeGreaterThanOrEqual(b.crossingMs);
    // and it snapshots in the current layout, which restores exactly
    const again = createForecaster(options, restored.snapshot());
    expect(again.update(T0 + 5 * DAY + STEP, value(T0 + 5 * DAY + STEP))).toEqual(
      restored.update(T0 + 5 * DAY + STEP, value(T0 + 5 * DAY + STEP)),
    );
  });

  it('predicts nothing in the first days of a flat series whose Monday is busier than its Sunday (no limit in reach)', () => {
    // p95 latency that follows the load: a business-hours peak, weekends at 45% of the load,
    // Mondays at 108%, 6% noise; the busiest Monday peak stays >= 13% under the limit. The data
    // start on a Sunday at 06:00 UTC, so the seasonal fit becomes usable on Monday morning and
    // the first trend windows see the Monday rise. Before the confirming window had to hold a
    // half-life of data, 4 of these 40 series raised "limit reached in ~1 day" on day 2.
    const sunday = Date.UTC(2026, 10, 22, 6, 0);
    const raised: string[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const rand = mulberry32(seed);
      const base = 600 + 450 * rand();
      const f = createForecaster({ limit: 1500, when: 'above', horizonMs: DAY });
      for (let t = sunday; t < sunday + 3 * DAY; t += STEP) {
        const hour = (t / HOUR) % 24;
        const dow = new Date(t).getUTCDay();
        const load =
          (0.25 + 0.75 * Math.exp(-((hour - 14) ** 2) / (2 * 3.2 ** 2))) * (dow === 0 || dow === 6 ? 0.45 : dow === 1 ? 1.08 : 1);
        const fc = f.update(t, base * (0.85 + 0.3 * load) * Math.exp(0.06 * normal(rand)));
        if (fc.score > 0) {
          raised.push(`seed ${seed} at day ${((t - sunday) / DAY).toFixed(2)}`);
          break;
        }
      }
    }
    expect(raised).toEqual([]);
  });

  it.each([NaN, Infinity, -Infinity])('skips a non-finite value (%f) without throwing or forgetting', (bad) => {
    const f = createForecaster(options);
    for (let t = T0; t < T0 + 2 * DAY; t += STEP) f.update(t, 0.5);
    expect(() => f.update(T0 + 2 * DAY, bad)).not.toThrow();
    expect(f.update(T0 + 2 * DAY, 0.5).fitted).toBeCloseTo(0.5, 6);
  });
});

/** standard normal CDF (Zelen & Severo 26.2.17, |error| < 7.5e-8): the interval's nominal level from its z */
function normCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
  const p = d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return z >= 0 ? 1 - p : p;
}

/** a forecast snapshot in format version 2, written by the code before this layout (see its test) */
const V2_SNAPSHOT_BASE64 =
  'RlcQAkM5jHj3gIdANY9Dnd3pk8BxjVThVF0fQJl00XP0gDpA/gdpO0z/J0Bayz26gH0bwIsEsikAihnAtyv411SbGsAwhMbp' +
  '+WGoQFCalDod0ThACCr9r4UZUUDDZYdLBwk/QGC4r+I1CzPAeVJzddQpMcD6r3TSyCwxwOG0AHryt3dA/gdpO0z/F0C9v+fU' +
  '5JMwQAVJg4WqcxzAhIeoCal6GcD4iZgGbVIfwKG9F3f8SXdAOyKK3lJN5z+4adM9H9ojQEuGOXArrBBAyCCqhL0W4L+4EtrV' +
  'B1J3QPoGviyDTP2/3OZX4yDSKEDqP/zxoY30v8dfPhvnr3dAW33VZOw5GkBSAksEyC8sQKTuDtLNpXdAXGcTFEaBwT/ggwkf' +
  'IVx3QKGAmeAnEXRAvWlAc0gagMAAoaqD1CE4QFUCa833nTFAahp93GQXIUDkSsIo4b4FQGCcurG/YhHAu3QHhCSgEcBh1xjL' +
  'JDhKQFV8giZSuyLAUz1LhFcGC0DTS0vfslo7QGf4J4BmeBLA/A4mMrSfLEAVoNGewng6QB2I3fZbFlpAQppwL3uwQsCHSfsr' +
  '9bs6QFrFaPAg7ElAWTSwYhX+MMCgedR81/c5QELXGMskOEpAsgqezNOfaUCjZZ66KThhwDsgOhadL2VAcFJkrOr0V0DBO9at' +
  'Kk1NwPFbhwHRr0ZAYIjd9lsWWkBqXpv/8r92QCEyQPIYCHfAYXgs/qOegkAEC6qXOkhkQNB62wOdBGPAvC3rw1hTUkBxCp7M' +
  '059pQCQDS68fzIBAjKt2hZ/ghMBYCCMHZ/KSQPhgw4hILm1Agl2nYccMccACusobBqhZQM1em//yv3ZAAAAYPMv0eEIAANqJ' +
  'FPZ4Qj+jtC339nhCAAAAAAAA8D8AAF73E/Z4QgAAAAAAAPA/4bdWm5At3j/2EWMnUKebP2Q2BdgBdqo/60vgJb7ufj8wprWJ' +
  'UKhsP36dsw5XyJI/Vtfm1Zi1Wr8O7m7EtGhgvxH+zHCK5Ow/AZ01/vP2eEIZRzht8vZ4Qjq2B8L19nhCrsuK0ciN4j92k36q' +
  'kB/EP9AsJbO3iV4/AAAAAHCZZEE=';
