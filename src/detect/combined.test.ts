import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gaussian, mulberry32 } from '../../test/support/random.ts';
import type { DetectorChoice } from '../config/types.ts';
import type { AnomalyScore } from '../domain/types.ts';
import {
  LIKELIHOOD_MIN_POINTS,
  LIKELIHOOD_SCORE_FLOOR,
  LIKELIHOOD_STAGE_BYTES,
  RANGE_NOVELTY_LIKELIHOOD,
  combinedFactory,
  createCombinedDetector,
  detectorFactoryFor,
} from './combined.ts';
import type { SeriesDetector } from './detector.ts';
import { RANGE_DETECTOR } from './range.ts';
import { HOUR_MS } from './seasonal-baseline.ts';
import { SnapshotError, detectorHeapBytes } from './snapshot.ts';

const DAY_MS = 24 * HOUR_MS;
/** 2024-01-01 00:00 UTC, a Monday */
const MONDAY = Date.UTC(2024, 0, 1);
const INCIDENT_AT = MONDAY + 16 * DAY_MS + 10 * HOUR_MS;

/** requests per minute: weekday daytime peak, quiet nights and weekends */
function requests(t: number): number {
  const hour = (((t / HOUR_MS) % 24) + 24) % 24;
  const dow = (((Math.floor(t / DAY_MS) + 4) % 7) + 7) % 7;
  const weekend = dow === 0 || dow === 6;
  const daily = Math.exp(-((hour - 13) ** 2) / (2 * 3.5 ** 2));
  return weekend ? 40 + 30 * daily : 50 + 250 * daily;
}

type Incident = 'none' | 'spike' | 'dip' | 'creep-up' | 'creep-down' | 'spike-then-creep';

/** a deterministic stream of [ts, value] with one incident starting at INCIDENT_AT */
function stream(incident: Incident, seed = 1, stepMin = 5, hoursAfter = 24): Array<[number, number]> {
  const rand = mulberry32(seed);
  const out: Array<[number, number]> = [];
  for (let t = MONDAY; t < INCIDENT_AT + hoursAfter * HOUR_MS; t += stepMin * 60_000) {
    const hours = (t - INCIDENT_AT) / HOUR_MS;
    let x = requests(t) * (1 + 0.05 * gaussian(rand));
    if (hours >= 0) {
      if (incident === 'spike' && hours < 0.25) x *= 4;
      if (incident === 'dip' && hours < 0.25) x *= 0.1;
      if (incident === 'creep-up') x *= 1 + 0.02 * Math.min(hours, 24);
      if (incident === 'creep-down') x *= 1 - 0.02 * Math.min(hours, 24);
      if (incident === 'spike-then-creep') x *= (hours < 0.25 ? 4 : 1) * (1 + 0.02 * Math.min(Math.max(hours - 2, 0), 24));
    }
    out.push([t, x]);
  }
  return out;
}

function run(detector: SeriesDetector, points: Array<[number, number]>): AnomalyScore[] {
  return points.map(([t, x]) => detector.update(t, x));
}

const afterIncident = (points: Array<[number, number]>, results: AnomalyScore[]): AnomalyScore[] =>
  results.filter((_, i) => (points[i] as [number, number])[0] >= INCIDENT_AT);

describe('combined: the larger score wins and names its detector', () => {
  it.each([
    { incident: 'spike' as const, detector: 'seasonal', direction: 'up' },
    { incident: 'dip' as const, detector: 'seasonal', direction: 'down' },
    { incident: 'creep-up' as const, detector: 'drift', direction: 'up' },
    { incident: 'creep-down' as const, detector: 'drift', direction: 'down' },
  ])('$incident: scores > 0.8, reported by $detector, direction $direction', ({ incident, detector, direction }) => {
    const points = stream(incident);
    const results = run(createCombinedDetector(), points);
    const before = results.filter(
      (_, i) => (points[i] as [number, number])[0] >= MONDAY + 7 * DAY_MS && (points[i] as [number, number])[0] < INCIDENT_AT,
    );
    expect(Math.max(...before.map((r) => r.score))).toBeLessThan(0.8);
    const worst = afterIncident(points, results).reduce((a, b) => (b.score > a.score ? b : a));
    expect(worst.score).toBeGreaterThan(0.8);
    expect(worst.detector).toBe(detector);
    expect(worst.direction).toBe(direction);
    expect(Math.sign(worst.observed - worst.expected)).toBe(direction === 'up' ? 1 : -1);
  });

  it('a quiet stream scores 0 almost everywhere after the first week', () => {
    const points = stream('none', 3, 5, 24 * 4);
    const results = run(createCombinedDetector(), points).filter((_, i) => (points[i] as [number, number])[0] >= MONDAY + 7 * DAY_MS);
    const nonZero = results.filter((r) => r.score > 0).length;
    expect(nonZero / results.length).toBeLessThan(0.01);
    expect(results.every((r) => (r.score === 0 ? r.direction === 'none' : r.direction !== 'none'))).toBe(true);
  });

  it.each([
    { direction: 'up' as const, incident: 'spike' as const, scores: true },
    { direction: 'up' as const, incident: 'dip' as const, scores: false },
    { direction: 'up' as const, incident: 'creep-up' as const, scores: true },
    { direction: 'up' as const, incident: 'creep-down' as const, scores: false },
    { direction: 'down' as const, incident: 'spike' as const, scores: false },
    { direction: 'down' as const, incident: 'dip' as const, scores: true },
    { direction: 'down' as const, incident: 'creep-up' as const, scores: false },
    { direction: 'down' as const, incident: 'creep-down' as const, scores: true },
    { direction: 'both' as const, incident: 'dip' as const, scores: true },
    { direction: 'both' as const, incident: 'creep-up' as const, scores: true },
  ])('direction $direction, $incident: scores=$scores', ({ direction, incident, scores }) => {
    const points = stream(incident, 4);
    const after = afterIncident(points, run(createCombinedDetector({ direction }), points));
    const max = Math.max(...after.map((r) => r.score));
    // 0.75: the creep scores 0.80 (a scale still remembering the first days of a short history)
    if (scores) expect(max).toBeGreaterThan(0.75);
    else expect(max).toBeLessThan(0.3);
    // no direction the rule does not watch is ever reported ('both' watches every direction)
    if (direction !== 'both') expect(after.some((r) => r.direction === (direction === 'up' ? 'down' : 'up'))).toBe(false);
  });
});

describe('combined: edge input', () => {
  const weird = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0,
    -0,
    -1,
    -1e12,
    1e-300,
    1e29,
    1e31,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    42,
  ];

  it.each(weird.map((value) => ({ value })))(
    'after a normal history, a $value point scores within [0, 1] with finite numbers',
    ({ value }) => {
      const d = createCombinedDetector();
      run(d, stream('none', 5, 30, 0));
      const r = d.update(INCIDENT_AT, value);
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.deviation)).toBe(true);
      expect(Number.isFinite(r.expected)).toBe(true);
      // the next normal point is judged as before
      const next = d.update(INCIDENT_AT + 30 * 60_000, requests(INCIDENT_AT + 30 * 60_000));
      expect(next.score).toBeLessThan(0.3);
    },
  );

  it('a random mix of garbage, constants and jumps never yields a score outside [0, 1] or a non-finite deviation', () => {
    const rand = mulberry32(77);
    const d = createCombinedDetector();
    let t = MONDAY;
    for (let i = 0; i < 20_000; i++) {
      t += Math.floor(rand() * 10 * 60_000);
      const pick = rand();
      const value =
        pick < 0.05
          ? (weird[Math.floor(rand() * weird.length)] as number)
          : pick < 0.5
            ? 100
            : pick < 0.9
              ? 100 + gaussian(rand)
              : -1e6 * rand();
      const ts = rand() < 0.01 ? Number.NaN : rand() < 0.01 ? t - DAY_MS : t;
      const r = d.update(ts, value);
      expect(r.score >= 0 && r.score <= 1).toBe(true);
      expect(Number.isFinite(r.deviation)).toBe(true);
    }
  });
});

describe('combined: state', () => {
  it.each([
    { name: 'mid warm-up and later', every: 101 },
    { name: 'every few days', every: 997 },
  ])('snapshot=>restore=>continue equals an uninterrupted run ($name)', ({ every }) => {
    const points = stream('creep-up', 6, 7);
    const factory = combinedFactory({ seasonal: { utcOffsetMinutes: 120 } });
    const expected = run(factory.create(), points);
    let d = factory.create();
    const actual = points.map(([t, x], i) => {
      if (i % every === 0) d = factory.create(d.snapshot());
      return d.update(t, x);
    });
    expect(actual).toEqual(expected);
    expect(expected.some((r) => r.detector === 'drift' && r.score > 0.5)).toBe(true);
  });

  it.each([
    {
      name: 'a seasonal snapshot',
      bytes: () => detectorFactoryFor('seasonal').create().snapshot(),
      message: /detector kind 1, expected 3/,
    },
    { name: 'a truncated snapshot', bytes: () => createCombinedDetector().snapshot().subarray(0, 300), message: /truncated/ },
    {
      name: 'trailing bytes',
      bytes: () => new Uint8Array([...createCombinedDetector().snapshot(), 0]),
      message: /trailing bytes/,
    },
  ])('restoring from $name throws a SnapshotError', ({ bytes, message }) => {
    expect(() => combinedFactory().create(bytes())).toThrow(SnapshotError);
    expect(() => combinedFactory().create(bytes())).toThrow(message);
  });

  it('stays under 1 KB per series, reports it, and does not grow with data', () => {
    const d = createCombinedDetector();
    const fresh = d.stateBytes;
    // the one state array (a private field, looked at here only): its length is what stateBytes counts
    const state = (d as unknown as { s: number[] }).s;
    const slots = state.length;
    run(d, stream('creep-up', 2, 15));
    d.update(INCIDENT_AT + DAY_MS, Number.NaN);
    expect(state.length).toBe(slots);
    expect(state.every((v) => typeof v === 'number')).toBe(true);
    expect(d.stateBytes).toBe(detectorHeapBytes(slots));
    expect(d.stateBytes).toBe(fresh);
    expect(d.stateBytes).toBeLessThanOrEqual(1024);
    expect(d.stateBytes).toBeGreaterThan(d.snapshot().length);
  });

  it.each([
    { name: 'combined', factory: () => combinedFactory() },
    { name: 'combined, likelihood output', factory: () => combinedFactory({ output: 'likelihood', likelihoodMinPoints: 50 }) },
    { name: 'drift', factory: () => detectorFactoryFor('drift') },
  ])('$name: unusable points included, snapshot=>restore=>continue equals an uninterrupted run (no result carries over)', ({ factory }) => {
    const rand = mulberry32(21);
    const points = stream('spike-then-creep', 11, 10).map(([t, x]): [number, number] => {
      const pick = rand();
      return pick < 0.02 ? [t, Number.NaN] : pick < 0.03 ? [Number.NaN, x] : pick < 0.04 ? [t, 1e31] : [t, x];
    });
    const f = factory();
    const expected = run(f.create(), points);
    let d = f.create();
    const actual = points.map(([t, x], i) => {
      // restart right before an unusable point too
      if (i % 97 === 0 || !Number.isFinite(points[i + 1]?.[1] ?? 0)) d = f.create(d.snapshot());
      return d.update(t, x);
    });
    expect(actual).toEqual(expected);
    for (const [i, r] of expected.entries()) {
      const [t, x] = points[i] as [number, number];
      if (!Number.isFinite(t) || !(Math.abs(x) <= 1e30)) expect([r.score, r.direction, r.deviation]).toEqual([0, 'none', 0]);
    }
  });

  it('detectors of one factory share its models, not their state: interleaved series score as each would alone', () => {
    const f = combinedFactory({ output: 'likelihood', likelihoodMinPoints: 50 });
    const streams = [stream('spike', 12, 10), stream('creep-down', 13, 10), stream('none', 14, 10)];
    const alone = streams.map((points) => run(f.create(), points));
    const detectors = streams.map(() => f.create());
    const together: AnomalyScore[][] = streams.map(() => []);
    const length = Math.min(...streams.map((p) => p.length));
    for (let i = 0; i < length; i++) {
      streams.forEach((points, k) => {
        const [t, x] = points[i] as [number, number];
        together[k]?.push((detectors[k] as SeriesDetector).update(t, x));
      });
    }
    together.forEach((results, k) => expect(results).toEqual(alone[k]?.slice(0, length)));
  });

  it('reuseResult returns one object overwritten in place; the default returns fresh objects', () => {
    const reused = createCombinedDetector({ reuseResult: true });
    const a = reused.update(MONDAY, 1);
    const b = reused.update(MONDAY + 60_000, 2);
    expect(a).toBe(b);
    expect(b.observed).toBe(2);
    const fresh = createCombinedDetector();
    expect(fresh.update(MONDAY, 1)).not.toBe(fresh.update(MONDAY + 60_000, 2));
  });

  it('rejects invalid options when the factory is built, not on the hot path', () => {
    expect(() => combinedFactory({ drift: { fastTauMs: -1 } })).toThrow(/fastTauMs/);
    expect(() => combinedFactory({ seasonal: { zSoftness: 0 } })).toThrow(/zSoftness/);
  });
});

describe('detectorFactoryFor', () => {
  it.each([
    { choice: 'seasonal' as const, direction: 'both' as const, names: ['seasonal'] },
    { choice: 'seasonal' as const, direction: 'down' as const, names: [] },
    { choice: 'drift' as const, direction: 'up' as const, names: ['drift'] },
    { choice: 'combined' as const, direction: 'both' as const, names: ['seasonal', 'drift'] },
  ])('$choice ($direction): reports $names and round-trips its snapshot', ({ choice, direction, names }) => {
    const factory = detectorFactoryFor(choice, direction);
    const points = stream('spike-then-creep', 8, 10);
    const straight = run(factory.create(), points);
    const half = Math.floor(points.length / 2);
    const first = factory.create();
    run(first, points.slice(0, half));
    const resumed = run(factory.create(first.snapshot()), points.slice(half));
    expect(resumed).toEqual(straight.slice(half));
    const reported = new Set(straight.filter((r) => r.score > 0.5).map((r) => r.detector));
    expect([...reported].sort()).toEqual([...names].sort());
  });

  it.each([
    { choice: 'seasonal' as const, direction: 'down' as const },
    { choice: 'drift' as const, direction: 'down' as const },
    { choice: 'combined' as const, direction: 'down' as const },
  ])('$choice with direction $direction ignores an upward creep', ({ choice, direction }) => {
    const results = run(detectorFactoryFor(choice, direction).create(), stream('creep-up', 9, 15));
    expect(results.every((r) => r.direction !== 'up')).toBe(true);
  });

  it('rejects an unknown choice', () => {
    expect(() => detectorFactoryFor('magic' as DetectorChoice)).toThrow(/unknown detector choice magic/);
  });
});

describe('event time only', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('the same data gives the same scores whatever the wall clock says, and no wall clock is read', () => {
    const points = stream('spike', 10, 10);
    const runAt = (wallMs: number): AnomalyScore[] => {
      vi.useFakeTimers();
      vi.setSystemTime(wallMs);
      const results = run(createCombinedDetector(), points);
      vi.useRealTimers();
      return results;
    };
    const in1999 = runAt(Date.UTC(1999, 11, 31, 23, 59));
    const in2042 = runAt(Date.UTC(2042, 5, 1, 12, 0));
    expect(in2042).toEqual(in1999);

    const clock = vi.spyOn(Date, 'now');
    const perf = vi.spyOn(performance, 'now');
    run(createCombinedDetector(), points.slice(0, 5000));
    expect(clock).not.toHaveBeenCalled();
    expect(perf).not.toHaveBeenCalled();
  });

  it('no detector source reads the wall clock or a random source (grep)', () => {
    const folder = dirname(fileURLToPath(import.meta.url));
    const sources = readdirSync(folder).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.bench.ts'));
    expect(sources).toEqual(expect.arrayContaining(['seasonal-baseline.ts', 'drift.ts', 'combined.ts', 'health.ts', 'snapshot.ts']));
    for (const file of sources) {
      // comments may say "never Date.now()"; only code counts
      const code = readFileSync(join(folder, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect({ file, hits: code.match(/Date\.now|new Date\(\)|performance\.now|process\.hrtime|Math\.random|process\.env/g) }).toEqual({
        file,
        hits: null,
      });
    }
  });
});

describe('combined detector: likelihood stage', () => {
  /** a level series with small noise, then a jump to a level never seen before */
  function jumpSeries(n: number, jumpAt: number): Array<[number, number]> {
    const rand = mulberry32(3);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) out.push([MONDAY + i * 300_000, (i >= jumpAt ? 130 : 100) + gaussian(rand)]);
    return out;
  }

  it("output 'likelihood': quiet before the jump, a one-in-10^5 level of surprise right after it", () => {
    const d = createCombinedDetector({ output: 'likelihood' });
    const scores = jumpSeries(2000, 1500).map(([t, v]) => d.update(t, v));
    const before = scores.slice(400, 1500);
    const after = scores.slice(1500, 1520);
    // noise sets a new record now and then (a range novelty of the value or of the 5-point level,
    // reported as L = 5), nothing else stands out
    const novel = (s: AnomalyScore) => s.score === RANGE_NOVELTY_LIKELIHOOD;
    expect(Math.max(...before.filter((s) => !novel(s)).map((s) => s.score))).toBeLessThan(4);
    expect(before.filter(novel).length).toBeLessThanOrEqual(3);
    // the jump is a new extreme at once, and a one-in-10^5 level of surprise within the likelihood's
    // recent window (20 points)
    expect(after[0]?.detector).toBe(RANGE_DETECTOR);
    expect(after[0]?.score).toBe(RANGE_NOVELTY_LIKELIHOOD);
    expect(after[0]?.direction).toBe('up');
    expect(Math.max(...after.map((s) => s.score))).toBeGreaterThan(5);
  });

  it("output 'likelihood': a new extreme in the direction a rule does not watch is not a range novelty", () => {
    const down = createCombinedDetector({ output: 'likelihood', direction: 'down' });
    const scores = jumpSeries(2000, 1500).map(([t, v]) => down.update(t, v));
    expect(scores.filter((s) => s.detector === RANGE_DETECTOR && s.direction === 'up')).toEqual([]);
    expect(scores[1500]?.score).toBeLessThan(1);
  });

  it("output 'score': a range novelty alone raises nothing (its L is below the engine's floor)", () => {
    expect(RANGE_NOVELTY_LIKELIHOOD).toBeLessThan(LIKELIHOOD_SCORE_FLOOR);
    const lik = createCombinedDetector({ output: 'likelihood' });
    const score = createCombinedDetector();
    let novelties = 0;
    for (const [t, v] of jumpSeries(1501, 1500)) {
      const l = lik.update(t, v);
      const s = score.update(t, v);
      if (l.detector === RANGE_DETECTOR && l.score === RANGE_NOVELTY_LIKELIHOOD) {
        novelties += 1;
        expect(s.detector).not.toBe('likelihood');
      }
    }
    // the jump itself is one, so the check above ran
    expect(novelties).toBeGreaterThanOrEqual(1);
  });

  it('no likelihood score before likelihoodMinPoints usable points', () => {
    const d = createCombinedDetector({ output: 'likelihood', likelihoodMinPoints: 300 });
    const scores = jumpSeries(400, 200).map(([t, v]) => d.update(t, v).score);
    expect(Math.max(...scores.slice(0, 299))).toBe(0);
    expect(Math.max(...scores.slice(299))).toBeGreaterThan(0);
  });

  it('by default a new extreme is judged from point LIKELIHOOD_MIN_POINTS (150) on, and not before', () => {
    // a jump of 30 sigmas at point 200 (NAB's shortest file starts scoring at row 169): reported
    // as a range novelty; the same jump at point 100 is still warm-up and reports nothing
    const late = createCombinedDetector({ output: 'likelihood' });
    const lateScores = jumpSeries(260, 200).map(([t, v]) => late.update(t, v));
    expect(LIKELIHOOD_MIN_POINTS).toBe(150);
    expect(lateScores[200]).toMatchObject({ score: RANGE_NOVELTY_LIKELIHOOD, detector: RANGE_DETECTOR });
    const early = createCombinedDetector({ output: 'likelihood' });
    const earlyScores = jumpSeries(140, 100).map(([t, v]) => early.update(t, v).score);
    expect(Math.max(...earlyScores)).toBe(0);
  });

  it("output 'score' stays within [0, 1] and a version-1 snapshot (before the likelihood stage) still restores", () => {
    const d = createCombinedDetector();
    for (const [t, v] of jumpSeries(2000, 1500)) {
      const s = d.update(t, v).score;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    const v3 = d.snapshot();
    // a v1 snapshot is the v3 one without the likelihood stage's trailing bytes, version byte 1
    const v1 = v3.slice(0, v3.length - LIKELIHOOD_STAGE_BYTES);
    v1[3] = 1;
    expect(() => combinedFactory().create(v1)).not.toThrow();
    expect(combinedFactory().create(v3).snapshot()).toEqual(v3);
  });

  it('a version-2 snapshot (with a |value z| stream, no range) restores the other streams and starts a fresh range', () => {
    const d = createCombinedDetector({ output: 'likelihood' });
    const series = jumpSeries(2000, 1500);
    for (const [t, v] of series.slice(0, 1000)) d.update(t, v);
    const v4 = d.snapshot();
    // v4 tail: level shift, |seasonal z|, |level z| (32 bytes each), range (40), autocorrelation
    // (40) and its likelihood (32); v2 tail: level shift, |seasonal z|, |value z|, |level z| (32 each)
    const stage = v4.length - LIKELIHOOD_STAGE_BYTES;
    const head = v4.slice(0, stage + 64);
    const levelStream = v4.slice(stage + 64, stage + 96);
    const v2 = new Uint8Array([...head, ...new Uint8Array(32), ...levelStream]);
    v2[3] = 2;
    const restored = combinedFactory({ output: 'likelihood', direction: 'up' }).create(v2);
    const again = combinedFactory({ output: 'likelihood', direction: 'up' }).create(v4);
    // the same likelihoods until the jump (the range is fresh, but warm-up counts its own points)
    for (const [t, v] of series.slice(1000, 1300)) {
      const a = restored.update(t, v);
      const b = again.update(t, v);
      if (b.score < RANGE_NOVELTY_LIKELIHOOD) expect(a.score).toBe(b.score);
    }
    expect(restored.snapshot().length).toBe(v4.length);
  });

  it('a version-3 snapshot (no autocorrelation stage) restores everything else and starts that stage fresh', () => {
    const series = jumpSeries(2000, 1500);
    const d = createCombinedDetector({ output: 'likelihood' });
    for (const [t, v] of series.slice(0, 1000)) d.update(t, v);
    const v4 = d.snapshot();
    const v3 = v4.slice(0, v4.length - 72);
    v3[3] = 3;
    const fresh = combinedFactory({ output: 'likelihood' }).create(v3);
    const snap = fresh.snapshot();
    // the same state except the autocorrelation stage, which is all zeros (fresh)
    expect(snap.slice(0, v4.length - 72)).toEqual(v3.slice(0, v3.length).map((b, i) => (i === 3 ? 4 : b)));
    expect([...snap.slice(v4.length - 72)].every((b) => b === 0)).toBe(true);
    // a 'up' rule ignores the autocorrelation stage: a v3 restore scores exactly as the original
    const up = createCombinedDetector({ output: 'likelihood', direction: 'up' });
    for (const [t, v] of series.slice(0, 1000)) up.update(t, v);
    const upV3 = up.snapshot().slice(0, v4.length - 72);
    upV3[3] = 3;
    const restoredUp = combinedFactory({ output: 'likelihood', direction: 'up' }).create(upV3);
    for (const [t, v] of series.slice(1000)) expect(restoredUp.update(t, v).score).toBe(up.update(t, v).score);
  });

  it('a version-4 snapshot restores exactly, the autocorrelation stage included', () => {
    const series = jumpSeries(2000, 1500);
    const d = createCombinedDetector({ output: 'likelihood' });
    for (const [t, v] of series.slice(0, 1000)) d.update(t, v);
    const restored = combinedFactory({ output: 'likelihood' }).create(d.snapshot());
    for (const [t, v] of series.slice(1000)) expect(restored.update(t, v)).toEqual(d.update(t, v));
  });
});
