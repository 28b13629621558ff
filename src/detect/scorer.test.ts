/**
 * The scoring stage with a scripted detector: routing of points to rule watches and default
 * watches, the ratio join by timestamp, minDenominator, minNumerator and minValue, late points, the health
 * view, dirty checkpoints and restoring them.
 */
import { describe, expect, it } from 'vitest';
import type { AnomalyScore, Point } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { createScorer, seriesKey, type ScoredPoint, type ScorerOptions, type Watch } from './scorer.ts';

/**
 * A detector whose score is the value's distance above 100, capped at 1 (so 100 is normal and
 * 200 scores 1), and whose state is the number of points and their sum (expected = mean).
 */
class FakeDetector implements SeriesDetector {
  n = 0;
  sum = 0;
  constructor(
    readonly name: string,
    snapshot?: Uint8Array,
  ) {
    if (snapshot) {
      const s = JSON.parse(new TextDecoder().decode(snapshot)) as { n: number; sum: number };
      if (typeof s.n !== 'number') throw new Error('fake detector: bad snapshot');
      this.n = s.n;
      this.sum = s.sum;
    }
  }
  get stateBytes(): number {
    return 16;
  }
  update(_tsMs: number, value: number): AnomalyScore {
    const expected = this.n === 0 ? value : this.sum / this.n;
    this.n += 1;
    this.sum += value;
    const score = Math.max(0, Math.min(1, (value - 100) / 100));
    return { score, direction: value > 100 ? 'up' : 'none', expected, observed: value, deviation: 0, detector: this.name };
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ n: this.n, sum: this.sum }));
  }
}

function fakeFactory(name: string, created: Array<Uint8Array | undefined> = []): DetectorFactory {
  return {
    create(snapshot?: Uint8Array) {
      created.push(snapshot);
      return new FakeDetector(name, snapshot);
    },
  };
}

const latency: Watch = { id: 'latency_creep', series: 'latency', metric: 'latency', factory: fakeFactory('rule'), ruled: true };
const errorRate: Watch = {
  id: 'error_rate_rise',
  series: 'errors/requests',
  ratio: { numerator: 'errors', denominator: 'requests', minDenominator: 50 },
  factory: fakeFactory('rule'),
  ruled: true,
};
const usage: Watch = { id: 'usage_collapse', series: 'requests', metric: 'requests', factory: fakeFactory('rule'), ruled: true };

function setup(over: Partial<ScorerOptions> = {}) {
  const scorer = createScorer({ watches: [latency, errorRate, usage], defaultFactory: fakeFactory('default'), ...over });
  const out: ScoredPoint[] = [];
  // the scorer reuses the ScoredPoint it passes: keep copies
  const score = (points: Point[]) => scorer.score(points, (p) => out.push({ ...p, score: { ...p.score } }));
  return { scorer, out, score };
}

const pt = (metric: string, tsMs: number, value: number, account = 'acme'): Point => ({ account, metric, tsMs, value });
const brief = (p: ScoredPoint) => `${p.account} ${p.watch.id}@${p.tsMs}=${p.value}`;

describe('routing', () => {
  it.each([
    ['a rule metric goes to its rule watch', [pt('latency', 1, 120)], ['acme latency_creep@1=120']],
    ['an unwatched metric goes to a default watch', [pt('cpu', 1, 5)], ['acme metric:cpu@1=5']],
    [
      'a metric read by two rules (metric and denominator) scores once for the metric rule until joined',
      [pt('requests', 1, 1000)],
      ['acme usage_collapse@1=1000'],
    ],
    [
      'accounts are separate series',
      [pt('latency', 1, 120, 'a'), pt('latency', 1, 130, 'b')],
      ['a latency_creep@1=120', 'b latency_creep@1=130'],
    ],
  ])('%s', (_name, points, want) => {
    const { out, score } = setup();
    score(points);
    expect(out.map(brief)).toEqual(want);
  });

  it('the default watch is marked ruled=false and named after the metric; rule watches ruled=true', () => {
    const { out, score } = setup();
    score([pt('cpu', 1, 5), pt('latency', 1, 120)]);
    expect(out.map((p) => [p.watch.id, p.watch.series, p.watch.ruled])).toEqual([
      ['metric:cpu', 'cpu', false],
      ['latency_creep', 'latency', true],
    ]);
    expect(out[0]!.score.detector).toBe('default');
    expect(out[1]!.score.detector).toBe('rule');
  });

  it('every unwatched metric gets its own default watch, reused across batches', () => {
    const { out, score } = setup();
    score([pt('cpu', 1, 5), pt('mem', 1, 7)]);
    score([pt('cpu', 2, 6)]);
    expect(out.map((p) => p.watch.id)).toEqual(['metric:cpu', 'metric:mem', 'metric:cpu']);
    expect(out[0]!.watch).toBe(out[2]!.watch);
  });
});

describe('ratio join', () => {
  it.each<[string, Point[], string[]]>([
    ['numerator then denominator at the same ts', [pt('errors', 10, 20), pt('requests', 10, 200)], ['error_rate_rise@10=0.1']],
    ['denominator then numerator at the same ts', [pt('requests', 10, 200), pt('errors', 10, 20)], ['error_rate_rise@10=0.1']],
    ['different timestamps do not join', [pt('errors', 10, 20), pt('requests', 11, 200)], []],
    [
      'the latest numerator joins a later denominator',
      [pt('errors', 10, 20), pt('errors', 11, 40), pt('requests', 11, 400)],
      ['error_rate_rise@11=0.1'],
    ],
    ['denominator below minDenominator is skipped', [pt('errors', 10, 1), pt('requests', 10, 49)], []],
    ['denominator exactly minDenominator is scored', [pt('errors', 10, 5), pt('requests', 10, 50)], ['error_rate_rise@10=0.1']],
    ['each pair joins once', [pt('errors', 10, 20), pt('requests', 10, 200), pt('requests', 10, 200)], ['error_rate_rise@10=0.1']],
    [
      'two consecutive pairs',
      [pt('errors', 10, 20), pt('requests', 10, 200), pt('requests', 20, 100), pt('errors', 20, 50)],
      ['error_rate_rise@10=0.1', 'error_rate_rise@20=0.5'],
    ],
  ])('%s', (_name, points, want) => {
    const { out, score } = setup();
    score(points);
    expect(out.filter((p) => p.watch.id === 'error_rate_rise').map((p) => `${p.watch.id}@${p.tsMs}=${p.value}`)).toEqual(want);
  });

  it('the join spans batches (numerator in one request, denominator in the next)', () => {
    const { out, score } = setup();
    score([pt('errors', 10, 30)]);
    score([pt('requests', 10, 300)]);
    expect(out.filter((p) => p.watch.ratio).map(brief)).toEqual(['acme error_rate_rise@10=0.1']);
  });

  it('numerators of two accounts do not join each other', () => {
    const { out, score } = setup();
    score([pt('errors', 10, 30, 'a'), pt('requests', 10, 300, 'b')]);
    expect(out.filter((p) => p.watch.ratio)).toEqual([]);
  });

  it('a zero denominator is never divided by, even with minDenominator 0', () => {
    const w: Watch = { ...errorRate, ratio: { numerator: 'errors', denominator: 'requests', minDenominator: 0 } };
    const { out, score } = setup({ watches: [w] });
    score([pt('errors', 10, 3), pt('requests', 10, 0)]);
    expect(out).toEqual([]);
  });

  it('the denominator metric still feeds its own metric rule', () => {
    const { out, score } = setup();
    score([pt('errors', 10, 20), pt('requests', 10, 200)]);
    expect(out.map((p) => p.watch.id).sort()).toEqual(['error_rate_rise', 'usage_collapse']);
  });
});

describe('late points and minValue', () => {
  it('a point older than the last scored one is counted late, not scored; an equal timestamp is scored', () => {
    const { out, score } = setup();
    expect(score([pt('latency', 100, 110)])).toEqual({ scored: 1, late: 0 });
    expect(score([pt('latency', 50, 500), pt('latency', 100, 120), pt('latency', 99, 130)])).toEqual({ scored: 1, late: 2 });
    expect(out.map((p) => p.tsMs)).toEqual([100, 100]);
  });

  it('late is per series: an old point of another series is scored', () => {
    const { score } = setup();
    score([pt('latency', 100, 110)]);
    expect(score([pt('cpu', 5, 1), pt('latency', 5, 1, 'other')])).toEqual({ scored: 2, late: 0 });
  });

  it('a late ratio pair is counted once', () => {
    const { score } = setup({ watches: [errorRate] });
    score([pt('errors', 100, 10), pt('requests', 100, 100)]);
    expect(score([pt('errors', 50, 10), pt('requests', 50, 100)])).toEqual({ scored: 0, late: 1 });
  });

  it.each<[string, number, number, string]>([
    ['below minValue an anomalous value scores 0, direction none', 250, 200, 'none'],
    ['at minValue the detector score stands', 200, 200, 'up'],
  ])('%s', (_name, floor, value, direction) => {
    const { out, score } = setup({ watches: [{ ...latency, minValue: floor }] });
    expect(score([pt('latency', 1, value)])).toEqual({ scored: 1, late: 0 });
    expect(out[0]!.score).toMatchObject({ score: value < floor ? 0 : 1, direction, observed: value });
  });

  it('below minValue the detector still learns from the point (its mean moves)', () => {
    const { out, score } = setup({ watches: [{ ...latency, minValue: 1000 }] });
    score([pt('latency', 1, 100), pt('latency', 2, 300), pt('latency', 3, 100)]);
    expect(out.map((p) => p.score.score)).toEqual([0, 0, 0]);
    expect(out[2]!.score.expected).toBe(200);
  });

  it('below minValue the health view shows the series as normal', () => {
    const { scorer, score } = setup({ watches: [{ ...latency, minValue: 1000 }] });
    score([pt('latency', 1, 190)]);
    expect(scorer.health('acme')[0]).toMatchObject({ score: 0, direction: 'none', observed: 190 });
    expect(scorer.health('acme')[0]!.anomalousSinceMs).toBeUndefined();
  });
});

describe('minNumerator (ratio rules)', () => {
  // a detector that scores a share of 3% or more as fully anomalous, and learns every point (expected = mean)
  const shareFactory: DetectorFactory = {
    create() {
      let n = 0;
      let sum = 0;
      return {
        stateBytes: 16,
        update(_ts: number, value: number): AnomalyScore {
          const expected = n === 0 ? value : sum / n;
          n += 1;
          sum += value;
          const score = value >= 0.03 ? 1 : 0;
          return { score, direction: score > 0 ? 'up' : 'none', expected, observed: value, deviation: 0, detector: 'share' };
        },
        snapshot: () => new Uint8Array(0),
      };
    },
  };
  const withFloor: Watch = {
    ...errorRate,
    ratio: { numerator: 'errors', denominator: 'requests', minDenominator: 50, minNumerator: 3 },
    factory: shareFactory,
  };

  it.each<[string, number, number, number]>([
    ['2 failures in 50 (4%) score 0: too few events', 2, 50, 0],
    ['3 failures in 60 (5%) score as the detector says', 3, 60, 1],
    ['30 failures in 1000 (3%) score as the detector says', 30, 1000, 1],
  ])('%s', (_name, errors, requests, want) => {
    const { out, score } = setup({ watches: [withFloor] });
    score([pt('errors', 10, errors), pt('requests', 10, requests)]);
    expect(out.map((p) => [p.value, p.score.score, p.score.direction])).toEqual([[errors / requests, want, want ? 'up' : 'none']]);
  });

  it('the detector still learns a point with too few events (its mean moves)', () => {
    const { out, score } = setup({ watches: [withFloor] });
    score([
      pt('errors', 10, 0),
      pt('requests', 10, 100),
      pt('errors', 20, 2),
      pt('requests', 20, 50),
      pt('errors', 30, 0),
      pt('requests', 30, 100),
    ]);
    expect(out.map((p) => p.score.score)).toEqual([0, 0, 0]);
    expect(out[2]!.score.expected).toBeCloseTo(0.02);
  });

  it('without minNumerator a handful of events scores like any other share', () => {
    const { out, score } = setup({
      watches: [{ ...withFloor, ratio: { numerator: 'errors', denominator: 'requests', minDenominator: 50 } }],
    });
    score([pt('errors', 10, 2), pt('requests', 10, 50)]);
    expect(out[0]!.score.score).toBe(1);
  });
});

describe('health', () => {
  it('lists the latest state of each scored series of the account, and nothing for an unknown account', () => {
    const { scorer, score } = setup();
    score([pt('latency', 1, 100), pt('latency', 2, 150), pt('cpu', 2, 3), pt('errors', 2, 1)]);
    const h = scorer.health('acme');
    // the numerator alone never produced a score: the ratio is not listed yet
    expect(h.map((s) => s.series).sort()).toEqual(['cpu', 'latency']);
    expect(h.find((s) => s.series === 'latency')).toEqual({
      series: 'latency',
      ruled: true,
      score: 0.5,
      direction: 'up',
      expected: 100,
      observed: 150,
      lastMs: 2,
      anomalousSinceMs: 2,
      watch: 'latency_creep',
    });
    expect(h.find((s) => s.series === 'cpu')).toMatchObject({ ruled: false, score: 0 });
    expect(scorer.health('nobody')).toEqual([]);
  });

  it('normal=>anomalous=>anomalous=>normal: anomalousSinceMs set at the first anomalous point, kept, then cleared', () => {
    const { scorer, score } = setup();
    const since = () => scorer.health('acme')[0]!.anomalousSinceMs;
    score([pt('latency', 1, 100)]);
    expect(since()).toBeUndefined();
    score([pt('latency', 2, 180)]);
    expect(since()).toBe(2);
    score([pt('latency', 3, 190)]);
    expect(since()).toBe(2);
    score([pt('latency', 4, 100)]);
    expect(since()).toBeUndefined();
    expect('anomalousSinceMs' in scorer.health('acme')[0]!).toBe(false);
  });

  it.each([
    [undefined, 149, false],
    [undefined, 150, true],
    [0.9, 180, false],
    [0.9, 190, true],
  ])('anomalousAt %s: value %i anomalous %s', (anomalousAt, value, anomalous) => {
    const { scorer, score } = setup(anomalousAt === undefined ? {} : { anomalousAt });
    score([pt('latency', 1, value)]);
    expect(scorer.health('acme')[0]!.anomalousSinceMs !== undefined).toBe(anomalous);
  });

  it('returns copies: changing the result does not change the scorer', () => {
    const { scorer, score } = setup();
    score([pt('latency', 1, 150)]);
    scorer.health('acme')[0]!.score = 0;
    expect(scorer.health('acme')[0]!.score).toBe(0.5);
  });
});

describe('checkpoints', () => {
  it('dirtySnapshots returns only the series changed since the last call', () => {
    const { scorer, score } = setup();
    score([pt('latency', 1, 100), pt('cpu', 1, 1), pt('latency', 1, 100, 'b')]);
    expect(
      scorer
        .dirtySnapshots()
        .map(([k]) => k)
        .sort(),
    ).toEqual([seriesKey('acme', 'latency_creep'), seriesKey('acme', 'metric:cpu'), seriesKey('b', 'latency_creep')].sort());
    expect(scorer.dirtySnapshots()).toEqual([]);
    score([pt('cpu', 2, 1)]);
    expect(scorer.dirtySnapshots().map(([k]) => k)).toEqual([seriesKey('acme', 'metric:cpu')]);
  });

  it('a late point does not make a series dirty', () => {
    const { scorer, score } = setup();
    score([pt('latency', 5, 100)]);
    scorer.dirtySnapshots();
    score([pt('latency', 4, 100)]);
    expect(scorer.dirtySnapshots()).toEqual([]);
  });

  it('a restarted scorer restores each series from its snapshot on first use', () => {
    const first = setup();
    first.score([pt('latency', 1, 100), pt('latency', 2, 300)]);
    const saved = new Map(first.scorer.dirtySnapshots());
    const created: Array<Uint8Array | undefined> = [];
    const asked: string[] = [];
    const second = setup({
      watches: [{ ...latency, factory: fakeFactory('rule', created) }],
      loadSnapshot: (key) => {
        asked.push(key);
        return saved.get(key);
      },
    });
    second.score([pt('latency', 3, 100)]);
    expect(asked).toEqual([seriesKey('acme', 'latency_creep')]);
    expect(created).toHaveLength(1);
    expect(created[0]).toBeInstanceOf(Uint8Array);
    // the mean of the two restored points (100, 300) is the expectation of the third
    expect(second.out[0]!.score.expected).toBe(200);
    second.score([pt('latency', 4, 100)]);
    expect(asked).toHaveLength(1);
  });

  it('an unreadable snapshot starts the series afresh instead of failing the batch', () => {
    const { out, score } = setup({ loadSnapshot: () => new TextEncoder().encode('{"broken"') });
    expect(score([pt('latency', 1, 120)])).toEqual({ scored: 1, late: 0 });
    expect(out[0]!.score.expected).toBe(120);
  });

  it('stats counts series with a detector and their state bytes', () => {
    const { scorer, score } = setup();
    expect(scorer.stats()).toEqual({ series: 0, stateBytes: 0 });
    score([pt('latency', 1, 1), pt('cpu', 1, 1), pt('errors', 1, 1)]);
    expect(scorer.stats()).toEqual({ series: 2, stateBytes: 32 });
  });
});

describe('forecast streams (watches with a limit)', () => {
  const limited: Watch = { ...latency, limit: { value: 1000, when: 'above', horizonMs: 7 * 86_400_000, criticalWithinMs: 86_400_000 } };
  // latency climbing 10 per 5 minutes from 100: crosses 1000 after 7.5 hours of climbing
  const climb = (from: number, to: number) => {
    const pts: Point[] = [];
    for (let k = from; k < to; k++) pts.push(pt('latency', k * 300_000, 100 + (k < 300 ? 0 : (k - 300) * 0.5)));
    return pts;
  };

  it('each point feeds the forecast stream first, then the anomaly score; health lists both, the forecast with its limit', () => {
    const { scorer, out, score } = setup({ watches: [limited] });
    expect(score([pt('latency', 1, 120)])).toEqual({ scored: 2, late: 0 });
    expect(out.map((p) => [p.watch.id, p.watch.forecastOf?.id, p.forecast !== undefined])).toEqual([
      ['latency_creep:forecast', 'latency_creep', true],
      ['latency_creep', undefined, false],
    ]);
    const h = scorer.health('acme');
    expect(h.map((s) => s.watch)).toEqual(['latency_creep', 'latency_creep:forecast']);
    expect(h[1]).toMatchObject({ series: 'latency', ruled: true, observed: 120, lastMs: 1, forecast: { limit: 1000 } });
    expect('anomalousSinceMs' in h[1]!).toBe(false);
    expect(scorer.stats().series).toBe(1);
    expect(
      scorer
        .dirtySnapshots()
        .map(([k]) => k)
        .sort(),
    ).toEqual([seriesKey('acme', 'latency_creep'), seriesKey('acme', 'latency_creep:forecast')].sort());
  });

  it('an unreadable forecast checkpoint starts the forecast stream afresh instead of failing the batch', () => {
    const { out, score } = setup({ watches: [limited], loadSnapshot: () => new Uint8Array([1, 2, 3]) });
    expect(score([pt('latency', 1, 120)])).toEqual({ scored: 2, late: 0 });
    expect(out.map((p) => p.watch.id)).toEqual(['latency_creep:forecast', 'latency_creep']);
  });

  it('a restarted scorer continues the forecast from its checkpoint: the same crossing as without the restart', () => {
    const whole = setup({ watches: [limited] });
    whole.score(climb(0, 700));
    const first = setup({ watches: [limited] });
    first.score(climb(0, 500));
    const saved = new Map(first.scorer.dirtySnapshots());
    const second = setup({ watches: [limited], loadSnapshot: (key) => saved.get(key) });
    second.score(climb(500, 700));
    const crossing = (s: ReturnType<typeof setup>) => s.scorer.health('acme').find((h) => h.forecast)!.forecast!.crossingMs;
    expect(Number.isFinite(crossing(whole))).toBe(true);
    expect(crossing(second)).toBe(crossing(whole));
  });
});

describe('accounts with many series', () => {
  it('an account with more series than fit a linear scan keeps each series apart across batches', () => {
    const { scorer, out, score } = setup();
    const metrics = Array.from({ length: 30 }, (_, k) => `m${k}`);
    score(metrics.map((m, k) => pt(m, 1, 100 + k)));
    score(metrics.map((m, k) => pt(m, 2, 300 + k)));
    expect(scorer.stats().series).toBe(30);
    // each series' detector saw exactly its own first point: expected = that point's value
    expect(out.slice(30).map((p) => [p.watch.id, p.score.expected])).toEqual(metrics.map((m, k) => [`metric:${m}`, 100 + k]));
    expect(scorer.health('acme').map((h) => h.series)).toEqual(metrics);
  });
});
