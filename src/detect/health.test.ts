import { mulberry32 } from '../../test/support/random.ts';
import { describe, expect, it } from 'vitest';
import type { Direction } from '../domain/types.ts';
import { computeHealth, describeContributor, formatDuration } from './health.ts';
import type { HealthInput } from './health.ts';

function input(series: string, score: number, extra: Partial<HealthInput> = {}): HealthInput {
  const direction: Direction = score > 0 ? 'up' : 'none';
  return { series, score, direction, expected: 100, observed: 100 + 100 * score, ...extra };
}

describe('health score', () => {
  it.each([
    { name: 'no series', series: [], health: 100 },
    { name: 'all normal', series: [input('a', 0), input('b', 0), input('c', 0)], health: 100 },
    { name: 'one series fully anomalous', series: [input('a', 1), input('b', 0)], health: 0 },
    { name: 'one at 0.5', series: [input('a', 0.5)], health: 50 },
    { name: 'two at 0.5: worse than one', series: [input('a', 0.5), input('b', 0.5)], health: 37.5 },
    { name: 'three at 0.5', series: [input('a', 0.5), input('b', 0.5), input('c', 0.5)], health: 32.8125 },
    { name: 'weight halves a series', series: [input('a', 0.8, { weight: 0.5 })], health: 60 },
    { name: 'weight 0 ignores a series', series: [input('a', 1, { weight: 0 }), input('b', 0.2)], health: 80 },
  ])('$name => $health', ({ series, health }) => {
    expect(computeHealth(series).score).toBeCloseTo(health, 10);
  });

  it('healthy=>degraded=>critical: health falls as one series gets worse', () => {
    const healths = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1].map((s) => computeHealth([input('errors', s), input('latency', 0.2)]).score);
    for (let i = 1; i < healths.length; i++) expect(healths[i]).toBeLessThan(healths[i - 1] as number);
  });

  it('is monotone: raising any one score never raises the health (random accounts)', () => {
    const rand = mulberry32(4);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(rand() * 6);
      const series = Array.from({ length: n }, (_, i) => input(`s${i}`, rand() < 0.3 ? 0 : rand(), { weight: rand() < 0.5 ? 1 : rand() }));
      const before = computeHealth(series).score;
      const k = Math.floor(rand() * n);
      const worse = series.map((s, i) => (i === k ? { ...s, score: Math.min(1, s.score + rand() * 0.5) } : s));
      expect(computeHealth(worse).score).toBeLessThanOrEqual(before + 1e-9);
    }
  });

  it('the worst series dominates: health <= 100 x (1 - worst weighted score), however many healthy series', () => {
    const many = [input('bad', 0.8), ...Array.from({ length: 40 }, (_, i) => input(`ok${i}`, 0))];
    const h = computeHealth(many).score;
    expect(h).toBeCloseTo(20, 10);
    expect(computeHealth([input('bad', 0.8), input('meh', 0.1)]).score).toBeLessThan(20);
  });

  it.each([
    { name: 'NaN score', score: Number.NaN, weight: 1, health: 100 },
    { name: 'negative score', score: -3, weight: 1, health: 100 },
    { name: 'score above 1', score: 7, weight: 1, health: 0 },
    { name: 'NaN weight', score: 0.5, weight: Number.NaN, health: 100 },
    { name: 'weight above 1', score: 0.5, weight: 9, health: 50 },
  ])('$name is clamped, never out of 0..100', ({ score, weight, health }) => {
    const r = computeHealth([input('x', score, { weight })]);
    expect(r.score).toBeCloseTo(health, 10);
    expect(r.score).toBeGreaterThanOrEqual(0);
    expect(r.score).toBeLessThanOrEqual(100);
  });
});

describe('health contributors', () => {
  it('lists only series that cost health, worst (weighted) first, ties by name, at most maxContributors', () => {
    const r = computeHealth(
      [
        input('zeta', 0.5),
        input('ok', 0),
        input('alpha', 0.5),
        input('heavy', 0.9, { weight: 0.5 }),
        input('worst', 0.95),
        input('tiny', 0.05),
      ],
      { maxContributors: 4 },
    );
    expect(r.contributors.map((c) => c.series)).toEqual(['worst', 'alpha', 'zeta', 'heavy']);
    expect(r.contributors[3]).toMatchObject({ score: 0.9, weight: 0.5 });
    const bads = r.contributors.map((c) => c.score * c.weight);
    expect([...bads].sort((a, b) => b - a)).toEqual(bads);
  });

  it('a healthy account has no contributors', () => {
    expect(computeHealth([input('a', 0), input('b', 0)]).contributors).toEqual([]);
  });

  it.each([
    { name: 'ratio 4.1x', expected: 0.02, observed: 0.082, text: 'errors/requests 4.1x baseline' },
    { name: 'ratio 12x', expected: 1, observed: 12.4, text: 'errors/requests 12x baseline' },
    { name: 'percent over', expected: 200, observed: 270, text: 'errors/requests +35% over baseline' },
    { name: 'percent below', expected: 1000, observed: 400, text: 'errors/requests 60% below baseline' },
    { name: 'drop to zero', expected: 1000, observed: 0, text: 'errors/requests 100% below baseline' },
    { name: 'zero baseline', expected: 0, observed: 3, text: 'errors/requests 3 vs baseline 0' },
    { name: 'negative baseline', expected: -12.345, observed: -250.4, text: 'errors/requests -250 vs baseline -12.3' },
    { name: 'not finite', expected: Number.NaN, observed: 5, text: 'errors/requests anomalous (score 0.90)' },
    { name: 'near baseline', expected: 100, observed: 100.2, text: 'errors/requests near baseline 100 (score 0.90)' },
  ])('text for $name: "$text"', ({ expected, observed, text }) => {
    expect(describeContributor({ series: 'errors/requests', score: 0.9, direction: 'up', expected, observed }, 0.9)).toBe(text);
  });

  it.each([
    { sinceMs: Date.UTC(2024, 0, 1, 10, 0), nowMs: Date.UTC(2024, 0, 1, 12, 15), text: 'api_latency_ms +35% over baseline for 2h 15m' },
    { sinceMs: Date.UTC(2024, 0, 1, 10, 0), nowMs: undefined, text: 'api_latency_ms +35% over baseline since 2024-01-01T10:00Z' },
    {
      sinceMs: Date.UTC(2024, 0, 1, 10, 0),
      nowMs: Date.UTC(2023, 0, 1),
      text: 'api_latency_ms +35% over baseline since 2024-01-01T10:00Z',
    },
    { sinceMs: 1e300, nowMs: undefined, text: 'api_latency_ms +35% over baseline' },
  ])('since $sinceMs, now $nowMs: "$text"', ({ sinceMs, nowMs, text }) => {
    const series = [{ series: 'api_latency_ms', score: 0.7, direction: 'up' as const, expected: 200, observed: 270, sinceMs }];
    const r = computeHealth(series, nowMs === undefined ? {} : { nowMs });
    expect(r.contributors[0]?.text).toBe(text);
  });

  it.each([
    { ms: 0, text: '<1m' },
    { ms: 45 * 60_000, text: '45m' },
    { ms: 2 * 3_600_000, text: '2h' },
    { ms: 26 * 3_600_000 + 5 * 60_000, text: '1d 2h' },
    { ms: 3 * 86_400_000, text: '3d' },
  ])('formatDuration($ms) = $text', ({ ms, text }) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
