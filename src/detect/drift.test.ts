import { mulberry32, gaussian } from '../../test/support/random.ts';
import { describe, expect, it } from 'vitest';
import type { AnomalyScore } from '../domain/types.ts';
import { createDriftDetector, driftFactory } from './drift.ts';
import type { DriftOptions } from './drift.ts';
import { HOUR_MS, createSeasonalBaseline } from './seasonal-baseline.ts';
import { SnapshotError } from './snapshot.ts';

const DAY_MS = 24 * HOUR_MS;
/** 2024-01-01 00:00 UTC, a Monday */
const MONDAY = Date.UTC(2024, 0, 1);
/** the creep starts on Wednesday of week 3 at 10:00 */
const CREEP_AT = MONDAY + 16 * DAY_MS + 10 * HOUR_MS;

/** API latency in ms: 120 at night, +30% in the weekday afternoon, +10% at weekends */
function latency(t: number): number {
  const hour = (((t / HOUR_MS) % 24) + 24) % 24;
  const dow = (((Math.floor(t / DAY_MS) + 4) % 7) + 7) % 7;
  const weekday = dow !== 0 && dow !== 6;
  return 120 * (1 + (weekday ? 0.3 : 0.1) * Math.exp(-((hour - 14) ** 2) / 18));
}

interface Trace {
  t: number;
  r: AnomalyScore;
}

/** latency with 4% noise; from CREEP_AT on it changes by `ratePerHour` (for at most a day) */
function playCreep(
  update: (t: number, x: number) => AnomalyScore,
  ratePerHour: number,
  stepMin: number,
  seed: number,
  hoursAfter = 30,
): Trace[] {
  const rand = mulberry32(seed);
  const out: Trace[] = [];
  for (let t = MONDAY; t < CREEP_AT + hoursAfter * HOUR_MS; t += stepMin * 60_000) {
    const hours = Math.max(0, (t - CREEP_AT) / HOUR_MS);
    const x = latency(t) * (1 + ratePerHour * Math.min(hours, 24)) * (1 + 0.04 * gaussian(rand));
    out.push({ t, r: update(t, x) });
  }
  return out;
}

const hoursToFirst = (trace: Trace[], over: number): number | undefined => {
  const hit = trace.find((p) => p.t >= CREEP_AT && p.r.score > over);
  return hit === undefined ? undefined : (hit.t - CREEP_AT) / HOUR_MS;
};

describe('drift: slow creep is caught', () => {
  it.each([
    { ratePerHour: 0.02, stepMin: 1, seed: 1, direction: 'up' },
    { ratePerHour: 0.02, stepMin: 5, seed: 2, direction: 'up' },
    { ratePerHour: 0.02, stepMin: 15, seed: 3, direction: 'up' },
    { ratePerHour: -0.02, stepMin: 5, seed: 4, direction: 'down' },
  ])(
    'latency creeping $ratePerHour/h (every $stepMin min): normal=>drifting within 12 h, direction $direction',
    ({ ratePerHour, stepMin, seed, direction }) => {
      const d = createDriftDetector();
      const trace = playCreep((t, x) => d.update(t, x), ratePerHour, stepMin, seed);
      const before = trace.filter((p) => p.t < CREEP_AT).map((p) => p.r.score);
      expect(Math.max(...before)).toBeLessThan(0.3);
      const first = hoursToFirst(trace, 0.5);
      expect(first).toBeDefined();
      // bounded: within 12 hours, i.e. 12 * 60 / stepMin points, while the creep is 24% at most
      expect(first).toBeLessThan(12);
      const hit = trace.find((p) => p.t >= CREEP_AT && p.r.score > 0.5);
      expect(hit?.r.direction).toBe(direction);
      expect(hit?.r.detector).toBe('drift');
      expect(Math.sign(hit?.r.deviation ?? 0)).toBe(direction === 'up' ? 1 : -1);
    },
  );

  it('the seasonal baseline alone absorbs the same creep: it flags it later than the drift, or never', () => {
    const seasonal = createSeasonalBaseline();
    const drift = createDriftDetector();
    const s =
      hoursToFirst(
        playCreep((t, x) => seasonal.update(t, x), 0.02, 5, 2),
        0.5,
      ) ?? Infinity;
    const d =
      hoursToFirst(
        playCreep((t, x) => drift.update(t, x), 0.02, 5, 2),
        0.5,
      ) ?? Infinity;
    expect(d).toBeLessThan(12);
    expect(s).toBeGreaterThan(d + 3);
  });

  it('drifting=>new normal: a lasting +48% stops scoring within a week, with no alarm the other way', () => {
    const d = createDriftDetector();
    const trace = playCreep((t, x) => d.update(t, x), 0.02, 15, 5, 24 * 8);
    const during = trace.filter((p) => p.t >= CREEP_AT + 12 * HOUR_MS && p.t < CREEP_AT + 48 * HOUR_MS);
    expect(during.every((p) => p.r.score > 0.3 && p.r.direction === 'up')).toBe(true);
    const afterAWeek = trace.filter((p) => p.t >= CREEP_AT + 7 * DAY_MS).map((p) => p.r.score);
    expect(Math.max(...afterAWeek)).toBe(0);
    expect(trace.filter((p) => p.t >= CREEP_AT).every((p) => p.r.direction !== 'down')).toBe(true);
  });

  it('raw mode (deseasonalize: false) catches a creep on a flat series', () => {
    const rand = mulberry32(8);
    const d = createDriftDetector({ deseasonalize: false });
    const start = MONDAY + 3 * DAY_MS;
    let first: number | undefined;
    let before = 0;
    for (let t = MONDAY; t < start + DAY_MS; t += 5 * 60_000) {
      const hours = Math.max(0, (t - start) / HOUR_MS);
      const r = d.update(t, 50 * (1 + 0.02 * hours) * (1 + 0.04 * gaussian(rand)));
      if (t < start && t > MONDAY + DAY_MS) before = Math.max(before, r.score);
      if (t >= start && first === undefined && r.score > 0.5) first = hours;
    }
    expect(before).toBeLessThan(0.3);
    expect(first).toBeLessThan(12);
  });

  it('the first weekend of a series started on a Monday is not a drift (its hours are not known yet)', () => {
    const rand = mulberry32(10);
    const d = createDriftDetector();
    let max = 0;
    for (let t = MONDAY; t < MONDAY + 8 * DAY_MS; t += 5 * 60_000) {
      // traffic-like: weekends at a third of the weekday level
      const hour = (t / HOUR_MS) % 24;
      const weekend = t >= MONDAY + 5 * DAY_MS && t < MONDAY + 7 * DAY_MS;
      const x = (weekend ? 40 : 120) * (1 + 0.5 * Math.exp(-((hour - 13) ** 2) / 8)) * (1 + 0.04 * gaussian(rand));
      max = Math.max(max, d.update(t, x).score);
    }
    expect(max).toBeLessThan(0.3);
  });

  it('isolated spikes are not a drift (the recent level is Huber-clipped)', () => {
    const rand = mulberry32(9);
    const d = createDriftDetector();
    let max = 0;
    for (let t = MONDAY; t < MONDAY + 14 * DAY_MS; t += 5 * 60_000) {
      const spike = t % (2 * HOUR_MS) === 0 && t > MONDAY + 3 * DAY_MS;
      max = Math.max(max, d.update(t, latency(t) * (1 + 0.04 * gaussian(rand)) * (spike ? 5 : 1)).score);
    }
    expect(max).toBeLessThan(0.3);
  });
});

describe('drift: options and edges', () => {
  it.each([
    { direction: 'up' as const, rate: 0.02, scores: true },
    { direction: 'up' as const, rate: -0.02, scores: false },
    { direction: 'down' as const, rate: 0.02, scores: false },
    { direction: 'down' as const, rate: -0.02, scores: true },
  ])('direction $direction with a creep of $rate/h: scores=$scores', ({ direction, rate, scores }) => {
    const d = createDriftDetector({ direction });
    const trace = playCreep((t, x) => d.update(t, x), rate, 15, 6);
    const after = trace.filter((p) => p.t >= CREEP_AT).map((p) => p.r);
    if (scores) expect(Math.max(...after.map((r) => r.score))).toBeGreaterThan(0.5);
    else expect(after.every((r) => r.score === 0 && r.direction === 'none')).toBe(true);
  });

  it.each([
    { name: 'NaN', value: Number.NaN },
    { name: 'Infinity', value: Number.POSITIVE_INFINITY },
    { name: '-1e300', value: -1e300 },
  ])('$name scores 0 and leaves the state untouched (both modes)', ({ value }) => {
    for (const deseasonalize of [true, false]) {
      const d = createDriftDetector({ deseasonalize });
      playCreep((t, x) => d.update(t, x), 0, 30, 1, 0);
      const before = d.snapshot();
      const r = d.update(CREEP_AT, value);
      expect(r.score).toBe(0);
      expect(r.direction).toBe('none');
      expect(Number.isFinite(r.expected)).toBe(true);
      expect(d.snapshot()).toEqual(before);
    }
  });

  it.each([
    { name: 'constant', at: () => 42 },
    { name: 'zero', at: () => 0 },
    { name: 'negative', at: (i: number) => -500 - (i % 5) },
  ])('$name series: scores finite, in [0, 1] and 0 while nothing changes (both modes)', ({ at }) => {
    for (const deseasonalize of [true, false]) {
      const d = createDriftDetector({ deseasonalize });
      for (let i = 0; i < 3000; i++) {
        const r = d.update(MONDAY + i * 5 * 60_000, at(i));
        expect(r.score).toBe(0);
        expect(Number.isFinite(r.deviation)).toBe(true);
        expect(Number.isFinite(r.expected)).toBe(true);
      }
    }
  });

  it.each([
    { opts: { fastTauMs: 0 }, message: /fastTauMs must be a positive number/ },
    { opts: { baselineTauMs: Number.POSITIVE_INFINITY }, message: /baselineTauMs must be a positive number/ },
    { opts: { zFloor: -1 }, message: /zFloor must be a non-negative number/ },
    { opts: { direction: 'left' as never }, message: /direction must be up, down or both/ },
    { opts: { seasonal: { levelTauMs: -5 } }, message: /seasonal baseline option levelTauMs/ },
  ])('rejects invalid options $opts', ({ opts, message }: { opts: DriftOptions; message: RegExp }) => {
    expect(() => createDriftDetector(opts)).toThrow(message);
    expect(() => driftFactory(opts)).toThrow(RangeError);
  });
});

describe('drift: state', () => {
  it.each([{ deseasonalize: true }, { deseasonalize: false }])(
    'snapshot=>restore=>continue gives exactly the scores of an uninterrupted run (deseasonalize $deseasonalize)',
    ({ deseasonalize }) => {
      const factory = driftFactory({ deseasonalize });
      const straight = factory.create();
      const expected = playCreep((t, x) => straight.update(t, x), 0.02, 10, 7);
      let restarted = factory.create();
      let i = 0;
      const actual = playCreep(
        (t, x) => {
          if (i++ % 500 === 0) restarted = factory.create(restarted.snapshot());
          return restarted.update(t, x);
        },
        0.02,
        10,
        7,
      );
      expect(actual).toEqual(expected);
      expect(expected.some((p) => p.r.score > 0.5)).toBe(true);
    },
  );

  it('a snapshot written with deseasonalize restored without it throws, naming the option', () => {
    const bytes = createDriftDetector().snapshot();
    expect(() => createDriftDetector({ deseasonalize: false }, bytes)).toThrow(SnapshotError);
    expect(() => createDriftDetector({ deseasonalize: false }, bytes)).toThrow(/deseasonalize/);
  });

  it('a seasonal snapshot is not a drift snapshot', () => {
    expect(() => createDriftDetector({}, createSeasonalBaseline().snapshot())).toThrow(/detector kind 1, expected 2/);
  });

  it('raw mode is small; deseasonalised mode stays under 1 KB', () => {
    expect(createDriftDetector({ deseasonalize: false }).stateBytes).toBeLessThan(512);
    expect(createDriftDetector().stateBytes).toBeLessThanOrEqual(1024);
  });
});

describe('drift: after a large incident', () => {
  it('incident=>normal: the drift score falls back to 0 within three hours of the series recovering', () => {
    // a week of a smooth daily cycle, then 8 hours at 4x, then back to normal
    const det = createDriftDetector({ direction: 'up' });
    const step = 5 * 60_000;
    const start = Date.UTC(2026, 0, 5);
    const incidentStart = start + 7 * 24 * HOUR_MS;
    const incidentEnd = incidentStart + 8 * HOUR_MS;
    const scores: Array<[number, number]> = [];
    for (let t = start, i = 0; t < incidentEnd + 6 * HOUR_MS; t += step, i++) {
      const hour = (t / HOUR_MS) % 24;
      let v = 180 * (1 + 0.3 * Math.exp(-((hour - 14) ** 2) / 18)) * (1 + 0.03 * Math.sin(i * 12.9898));
      if (t >= incidentStart && t < incidentEnd) v *= 4;
      scores.push([t, det.update(t, v).score]);
    }
    const during = scores.filter(([t]) => t >= incidentStart + 2 * HOUR_MS && t < incidentEnd);
    expect(Math.max(...during.map(([, s]) => s))).toBeGreaterThan(0.8);
    const after = scores.filter(([t]) => t >= incidentEnd + 3 * HOUR_MS);
    expect(Math.max(...after.map(([, s]) => s))).toBe(0);
  });
});
