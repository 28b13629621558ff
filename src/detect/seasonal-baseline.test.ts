import { quantile } from 'simple-statistics';
import { mulberry32, gaussian } from '../../test/support/random.ts';
import { describe, expect, it } from 'vitest';
import type { AnomalyScore } from '../domain/types.ts';
import { HOUR_MS, createSeasonalBaseline, seasonalFactory, squash } from './seasonal-baseline.ts';
import type { SeasonalBaseline, SeasonalBaselineOptions } from './seasonal-baseline.ts';
import { SnapshotError } from './snapshot.ts';

// ---- synthetic data: seeded, so every run sees the same numbers ----

const DAY_MS = 24 * HOUR_MS;
/** 2024-01-01 00:00 UTC, a Monday */
const MONDAY = Date.UTC(2024, 0, 1);

/**
 * Business traffic in local time: a daily peak at 13:00 on weekdays (300) over a night floor of
 * 50, quiet weekends (40..70), Mondays 5% busier and Fridays 5% quieter.
 */
function traffic(localMs: number): number {
  const hour = (((localMs / HOUR_MS) % 24) + 24) % 24;
  const dow = (((Math.floor(localMs / DAY_MS) + 4) % 7) + 7) % 7;
  const weekend = dow === 0 || dow === 6;
  const daily = Math.exp(-((hour - 13) ** 2) / (2 * 3.5 ** 2));
  const base = weekend ? 40 + 30 * daily : 50 + 250 * daily;
  return base * (dow === 1 ? 1.05 : dow === 5 ? 0.95 : 1);
}

interface Run {
  detector: SeasonalBaseline;
  results: AnomalyScore[];
  times: number[];
}

function play(opts: SeasonalBaselineOptions, stepMs: number, days: number, noise: number, seed = 1, offsetMinutes = 0): Run {
  const rand = mulberry32(seed);
  const detector = createSeasonalBaseline(opts);
  const results: AnomalyScore[] = [];
  const times: number[] = [];
  for (let t = MONDAY; t < MONDAY + days * DAY_MS; t += stepMs) {
    results.push(detector.update(t, traffic(t + offsetMinutes * 60_000) * (1 + noise * gaussian(rand))));
    times.push(t);
  }
  return { detector, results, times };
}

/** continues a run with one extra point and returns its score, without touching the original */
function probe(run: Run, tsMs: number, value: number): AnomalyScore {
  return seasonalFactory({}).create(run.detector.snapshot()).update(tsMs, value);
}

describe('seasonal baseline: seasonality is respected', () => {
  it.each([
    { stepMin: 1, noise: 0.05, offsetMinutes: 0 },
    { stepMin: 5, noise: 0.05, offsetMinutes: 0 },
    { stepMin: 5, noise: 0.1, offsetMinutes: 0 },
    { stepMin: 60, noise: 0.05, offsetMinutes: 0 },
    { stepMin: 5, noise: 0.05, offsetMinutes: 600 },
    { stepMin: 5, noise: 0.05, offsetMinutes: -300 },
  ])(
    'normal peaks and quiet weekends score low over 3 weeks (every $stepMin min, noise $noise, utc offset $offsetMinutes)',
    ({ stepMin, noise, offsetMinutes }) => {
      const run = play({ utcOffsetMinutes: offsetMinutes }, stepMin * 60_000, 21, noise, 7, offsetMinutes);
      // after the first week the model has seen every hour of weekdays and weekends
      const after = run.results.filter((_, i) => (run.times[i] as number) >= MONDAY + 7 * DAY_MS).map((r) => r.score);
      expect(quantile(after, 0.99)).toBeLessThan(0.3);
      expect(Math.max(...after)).toBeLessThan(0.8);
    },
  );

  it('scores a wrong utc offset worse than the right one (the weekend is local time)', () => {
    const right = play({ utcOffsetMinutes: 600 }, 5 * 60_000, 14, 0.05, 3, 600);
    const wrong = play({ utcOffsetMinutes: -600 }, 5 * 60_000, 14, 0.05, 3, 600);
    const mean = (r: Run) => r.results.reduce((a, b) => a + Math.abs(b.deviation), 0) / r.results.length;
    expect(mean(wrong)).toBeGreaterThan(1.3 * mean(right));
  });

  it('warming=>warm: a spike in the first day scores 0, the same spike after a day scores high', () => {
    const d = createSeasonalBaseline();
    const rand = mulberry32(3);
    const results: AnomalyScore[] = [];
    for (let i = 0; i < 26 * 12; i++) {
      const t = MONDAY + i * 5 * 60_000;
      const spike = i === 12 * 12 || i === 25 * 12;
      results.push(d.update(t, spike ? 1000 : 10 + gaussian(rand)));
      if (i < 24 * 12) expect(d.warm).toBe(false);
    }
    expect(d.warm).toBe(true);
    expect(results.slice(0, 24 * 12).every((r) => r.score === 0)).toBe(true);
    expect(results[25 * 12]?.score).toBeGreaterThan(0.8);
  });
});

describe('seasonal baseline: anomalies are caught', () => {
  const history = play({}, 5 * 60_000, 27, 0.05, 11); // Monday 1 Jan .. Saturday 27 Jan
  const sunday3am = Date.UTC(2024, 0, 28, 3, 0);
  const monday1pm = Date.UTC(2024, 0, 29, 13, 0);

  it('a Monday-peak value is normal on Monday at 13:00 but anomalous on Sunday at 03:00', () => {
    const peak = traffic(monday1pm);
    const onMonday = createSeasonalBaseline({}, history.detector.snapshot());
    // play Sunday normally up to Monday 13:00
    const rand = mulberry32(5);
    let last: AnomalyScore | undefined;
    for (let t = Date.UTC(2024, 0, 28); t <= monday1pm; t += 5 * 60_000) {
      last = onMonday.update(t, t === monday1pm ? peak : traffic(t) * (1 + 0.05 * gaussian(rand)));
    }
    expect(last?.score).toBeLessThan(0.3);

    const onSunday = createSeasonalBaseline({}, history.detector.snapshot());
    for (let t = Date.UTC(2024, 0, 28); t < sunday3am; t += 5 * 60_000) onSunday.update(t, traffic(t));
    const spike = onSunday.update(sunday3am, peak);
    expect(spike.score).toBeGreaterThan(0.8);
    expect(spike.direction).toBe('up');
    expect(spike.expected).toBeLessThan(80);
    expect(spike.deviation).toBeGreaterThan(5);
  });

  it.each([
    { name: 'spike at weekday night', ts: Date.UTC(2024, 0, 26, 3, 0), factor: 3, direction: 'up' },
    { name: 'outage at weekday peak', ts: Date.UTC(2024, 0, 26, 13, 0), factor: 0.2, direction: 'down' },
    { name: 'weekend surge', ts: Date.UTC(2024, 0, 27, 13, 0), factor: 3, direction: 'up' },
  ])('$name scores > 0.8 with direction $direction', ({ ts, factor, direction }) => {
    // the history ends on Saturday 27 Jan 24:00; replay a prefix up to the probe time
    const prefix = play({}, 5 * 60_000, (ts - MONDAY) / DAY_MS, 0.05, 11);
    const r = probe(prefix, ts, traffic(ts) * factor);
    expect(r.score).toBeGreaterThan(0.8);
    expect(r.direction).toBe(direction);
  });

  it.each([
    { factor: 1.5, direction: 'up' },
    { factor: 0.5, direction: 'down' },
  ])('level shift x$factor: normal=>anomalous=>new normal after a day', ({ factor, direction }) => {
    const rand = mulberry32(21);
    const d = createSeasonalBaseline();
    const shiftAt = Date.UTC(2024, 0, 16, 10, 0);
    const scores: Array<{ t: number; r: AnomalyScore }> = [];
    for (let t = MONDAY; t < Date.UTC(2024, 0, 19); t += 5 * 60_000) {
      const x = traffic(t) * (1 + 0.05 * gaussian(rand)) * (t >= shiftAt ? factor : 1);
      scores.push({ t, r: d.update(t, x) });
    }
    const before = scores.filter((s) => s.t >= MONDAY + 7 * DAY_MS && s.t < shiftAt).map((s) => s.r.score);
    const firstHour = scores.filter((s) => s.t >= shiftAt && s.t < shiftAt + HOUR_MS).map((s) => s.r);
    const dayAfter = scores.filter((s) => s.t >= shiftAt + DAY_MS).map((s) => s.r.score);
    expect(Math.max(...before)).toBeLessThan(0.8);
    // 0.75, not 0.8: with two weeks of history each bucket's scale still remembers some of the
    // noisier first days (a memory of 8 bucket-hours); the halving scores 0.79 here
    expect(Math.max(...firstHour.map((r) => r.score))).toBeGreaterThan(0.75);
    expect(firstHour.find((r) => r.score > 0.75)?.direction).toBe(direction);
    expect(quantile(dayAfter, 0.95)).toBeLessThan(0.3);
  });
});

describe('seasonal baseline: bad and edge input', () => {
  it.each([
    { name: 'NaN', value: Number.NaN },
    { name: 'Infinity', value: Number.POSITIVE_INFINITY },
    { name: '-Infinity', value: Number.NEGATIVE_INFINITY },
    { name: '1e300', value: 1e300 },
  ])('a $name value scores 0 and leaves the state untouched', ({ value }) => {
    const clean = play({}, 15 * 60_000, 3, 0.05, 4);
    const dirty = createSeasonalBaseline({}, clean.detector.snapshot());
    const r = dirty.update(MONDAY + 3 * DAY_MS, value);
    expect(r.score).toBe(0);
    expect(r.direction).toBe('none');
    expect(Number.isFinite(r.expected)).toBe(true);
    expect(dirty.snapshot()).toEqual(clean.detector.snapshot());
  });

  it('a NaN or Infinity timestamp scores 0 and leaves the state untouched', () => {
    const clean = play({}, 15 * 60_000, 3, 0.05, 4);
    const dirty = createSeasonalBaseline({}, clean.detector.snapshot());
    expect(dirty.update(Number.NaN, 100).score).toBe(0);
    expect(dirty.update(Number.POSITIVE_INFINITY, 100).score).toBe(0);
    expect(dirty.snapshot()).toEqual(clean.detector.snapshot());
  });

  it.each([
    { name: 'constant 100', at: (_i: number) => 100, jump: 150 },
    { name: 'constant 0', at: (_i: number) => 0, jump: 5 },
    { name: 'constant -40', at: (_i: number) => -40, jump: -80 },
    { name: 'negative noisy', at: (i: number) => -1000 + 10 * Math.sin(i), jump: -1200 },
    { name: 'tiny values', at: (i: number) => 1e-12 * (1 + (i % 3)), jump: 1e-9 },
    { name: 'huge values', at: (i: number) => 1e20 * (1 + 0.01 * (i % 3)), jump: 3e20 },
  ])('$name: scores are finite and in [0, 1], and a jump is noticed', ({ at, jump }) => {
    const d = createSeasonalBaseline();
    for (let i = 0; i < 600; i++) {
      const r = d.update(MONDAY + i * 5 * 60_000, at(i));
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.deviation)).toBe(true);
      expect(Number.isFinite(r.expected)).toBe(true);
      if (i > 300) expect(r.score).toBe(0);
    }
    const r = d.update(MONDAY + 600 * 5 * 60_000, jump);
    expect(r.score).toBeGreaterThan(0.8);
    expect(Number.isFinite(r.deviation)).toBe(true);
  });

  it('a constant series scores 0, not NaN, however long it runs', () => {
    const d = createSeasonalBaseline();
    for (let i = 0; i < 3000; i++) {
      const r = d.update(MONDAY + i * 60_000, 7);
      expect(r.score).toBe(0);
      expect(r.deviation).toBe(0);
    }
  });

  it('irregular timestamps, duplicates and a two-day gap: normal data stays normal', () => {
    const rand = mulberry32(9);
    const d = createSeasonalBaseline();
    const late: number[] = [];
    let t = MONDAY;
    while (t < MONDAY + 21 * DAY_MS) {
      // jittered 1..9 minute steps, a duplicate timestamp now and then, no data on days 12-13
      t += Math.floor(60_000 + rand() * 8 * 60_000);
      if (t >= MONDAY + 12 * DAY_MS && t < MONDAY + 14 * DAY_MS) continue;
      const x = traffic(t) * (1 + 0.05 * gaussian(rand));
      const r = d.update(t, x);
      if (rand() < 0.05) d.update(t, x);
      expect(r.score).toBeGreaterThanOrEqual(0);
      if (t >= MONDAY + 14 * DAY_MS) late.push(r.score);
    }
    expect(quantile(late, 0.99)).toBeLessThan(0.3);
  });

  it('an out-of-order timestamp is scored without moving the clock backwards', () => {
    const run = play({}, 5 * 60_000, 8, 0.05, 2);
    const d = createSeasonalBaseline({}, run.detector.snapshot());
    const r = d.update(MONDAY + 2 * DAY_MS, 100);
    expect(r.score).toBeGreaterThanOrEqual(0);
    expect(r.score).toBeLessThanOrEqual(1);
    // the next in-order point is judged as usual
    const next = MONDAY + 8 * DAY_MS;
    expect(d.update(next, traffic(next)).score).toBeLessThan(0.3);
  });
});

describe('seasonal baseline: options', () => {
  it.each([
    { direction: 'up' as const, factor: 3, scores: true },
    { direction: 'up' as const, factor: 0.1, scores: false },
    { direction: 'down' as const, factor: 3, scores: false },
    { direction: 'down' as const, factor: 0.1, scores: true },
    { direction: 'both' as const, factor: 3, scores: true },
    { direction: 'both' as const, factor: 0.1, scores: true },
  ])('direction $direction, value x$factor: scores=$scores', ({ direction, factor, scores }) => {
    const run = play({ direction }, 10 * 60_000, 9, 0.05, 6);
    const ts = MONDAY + 9 * DAY_MS + 13 * HOUR_MS;
    const r = createSeasonalBaseline({ direction }, run.detector.snapshot()).update(ts, traffic(ts) * factor);
    if (scores) {
      expect(r.score).toBeGreaterThan(0.8);
      expect(r.direction).toBe(factor > 1 ? 'up' : 'down');
    } else {
      expect(r.score).toBe(0);
      expect(r.direction).toBe('none');
    }
  });

  it.each([
    { opts: { levelTauMs: 0 }, message: /levelTauMs must be a positive number/ },
    { opts: { zSoftness: -1 }, message: /zSoftness must be a positive number/ },
    { opts: { warmupMs: Number.NaN }, message: /warmupMs must be a non-negative number/ },
    { opts: { utcOffsetMinutes: 5000 }, message: /utcOffsetMinutes must be within/ },
    { opts: { direction: 'sideways' as never }, message: /direction must be up, down or both/ },
  ])('rejects invalid options $opts', ({ opts, message }) => {
    expect(() => createSeasonalBaseline(opts)).toThrow(message);
    expect(() => seasonalFactory(opts)).toThrow(RangeError);
  });

  it('reuseResult returns the same object each time; the default returns fresh objects', () => {
    const reused = createSeasonalBaseline({ reuseResult: true });
    expect(reused.update(MONDAY, 1)).toBe(reused.update(MONDAY + 60_000, 2));
    const fresh = createSeasonalBaseline();
    expect(fresh.update(MONDAY, 1)).not.toBe(fresh.update(MONDAY + 60_000, 2));
  });

  it('a daily-only profile (weekly: false) treats weekends like weekdays', () => {
    const weekly = play({}, 10 * 60_000, 14, 0.05, 8);
    const daily = play({ weekly: false }, 10 * 60_000, 14, 0.05, 8);
    const meanDev = (r: Run) => r.results.slice(-288).reduce((a, b) => a + Math.abs(b.deviation), 0);
    // the last day is a Sunday: only the weekly profile knows it is quiet
    expect(meanDev(daily)).toBeGreaterThan(meanDev(weekly));
    expect(daily.detector.stateBytes).toBeLessThan(weekly.detector.stateBytes);
  });
});

describe('seasonal baseline: state', () => {
  it('snapshot=>restore=>continue gives exactly the scores of an uninterrupted run', () => {
    const rand = mulberry32(12);
    // every 10th timestamp repeats (a duplicate counts as one typical interval) and day 9 is missing
    const points = Array.from({ length: 4000 }, (_, i) => {
      const t = MONDAY + (i - (i % 10 === 9 ? 1 : 0)) * 7 * 60_000 + (i > 1800 ? DAY_MS : 0);
      return [t, traffic(t) * (1 + 0.05 * gaussian(rand)) * (i === 3500 ? 4 : 1)] as const;
    });
    const factory = seasonalFactory({ utcOffsetMinutes: 60 });
    const straight = factory.create();
    const expected = points.map(([t, x]) => straight.update(t, x));
    let restarted = factory.create();
    const actual = points.map(([t, x], i) => {
      if (i % 997 === 0) restarted = factory.create(restarted.snapshot());
      return restarted.update(t, x);
    });
    expect(actual).toEqual(expected);
    expect(expected.some((r) => r.score > 0.8)).toBe(true);
  });

  it.each([
    { name: 'empty bytes', bytes: new Uint8Array(0), message: /shorter than the header/ },
    { name: 'bad magic', bytes: new Uint8Array([1, 2, 1, 1, 48]), message: /bad magic/ },
    { name: 'another detector kind', bytes: new Uint8Array([0x46, 0x57, 2, 1]), message: /detector kind 2/ },
    { name: 'a future version', bytes: new Uint8Array([0x46, 0x57, 1, 99]), message: /unsupported format version 99/ },
    { name: 'truncated', bytes: createSeasonalBaseline().snapshot().subarray(0, 100), message: /truncated/ },
  ])('restoring from $name throws a SnapshotError', ({ bytes, message }) => {
    expect(() => seasonalFactory().create(bytes)).toThrow(SnapshotError);
    expect(() => seasonalFactory().create(bytes)).toThrow(message);
  });

  it('restoring a weekly snapshot into a daily-only detector throws, naming the option', () => {
    expect(() => createSeasonalBaseline({ weekly: false }, createSeasonalBaseline().snapshot())).toThrow(/"weekly"/);
  });

  it('bucket values survive their float32 storage bit for bit, edge values included; a NaN with a payload comes back as NaN and spares its neighbour', () => {
    const bytes = play({}, 10 * 60_000, 3, 0.05).detector.snapshot();
    // header (4), bucket count (1), 7 float64; then 3 x 48 float32: usual values, scales, hours seen
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const f32 = (k: number) => 4 + 1 + 7 * 8 + 4 * k;
    const edges = [-0, 1e-45, -3.4028234663852886e38, Number.POSITIVE_INFINITY, 1.1754942106924411e-38, 0.1];
    edges.forEach((v, k) => view.setFloat32(f32(k), v, true));
    edges.forEach((v, k) => view.setFloat32(f32(48 + 7 + k), v, true));
    // NaNs with payloads, in the usual value, the scale and the hours seen of some buckets
    for (const k of [20, 48 + 21, 96 + 30, 96 + 33]) view.setUint32(f32(k), 0x7fffffff, true);
    const back = createSeasonalBaseline({}, bytes).snapshot();
    const backView = new DataView(back.buffer, back.byteOffset, back.byteLength);
    for (let k = 0; k < 3 * 48; k++) {
      const was = view.getUint32(f32(k), true);
      if (Number.isNaN(view.getFloat32(f32(k), true)))
        expect({ k, value: backView.getFloat32(f32(k), true) }).toEqual({ k, value: Number.NaN });
      else expect({ k, bits: backView.getUint32(f32(k), true) }).toEqual({ k, bits: was });
    }
    expect(back.subarray(0, f32(0))).toEqual(bytes.subarray(0, f32(0)));
  });

  it('detectors of one factory share its model, not their state: interleaved series score as each would alone', () => {
    const factory = seasonalFactory({ utcOffsetMinutes: 60 });
    const rand = mulberry32(5);
    const series = [1, 2, 3].map((scale) =>
      Array.from(
        { length: 3000 },
        (_, i) => [MONDAY + i * 7 * 60_000, scale * traffic(MONDAY + i * 7 * 60_000) * (1 + 0.05 * gaussian(rand))] as const,
      ),
    );
    const alone = series.map((points) => {
      const d = factory.create();
      return points.map(([t, x]) => d.update(t, x));
    });
    const detectors = series.map(() => factory.create());
    const together = alone.map(() => [] as AnomalyScore[]);
    for (let i = 0; i < 3000; i++) {
      series.forEach((points, k) => {
        const [t, x] = points[i] as readonly [number, number];
        together[k]?.push((detectors[k] as SeasonalBaseline).update(t, x));
      });
    }
    expect(together).toEqual(alone);
  });

  it('keeps its state under 1 KB, and it does not grow with the data seen', () => {
    const short = play({}, 60 * 60_000, 2, 0.05).detector;
    const long = play({}, 5 * 60_000, 21, 0.05).detector;
    expect(long.stateBytes).toBeLessThanOrEqual(1024);
    expect(long.stateBytes).toBe(short.stateBytes);
    expect(long.snapshot().length).toBe(short.snapshot().length);
    expect(long.stateBytes).toBeGreaterThanOrEqual(long.snapshot().length);
  });
});

describe('squash', () => {
  it.each([
    { z: 0, score: 0 },
    { z: 3, score: 0 },
    { z: Number.NaN, score: 0 },
    { z: 5, score: 1 - Math.exp(-1) },
    { z: Number.POSITIVE_INFINITY, score: 1 },
  ])('|z| = $z => $score', ({ z, score }) => {
    expect(squash(z, 3, 2)).toBeCloseTo(score, 12);
  });
});
