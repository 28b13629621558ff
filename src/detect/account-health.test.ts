import { describe, expect, it } from 'vitest';
import { ruleNamed } from '../../test/fixtures/bundle.ts';
import { accountHealth, createHealthWeights, formatSince, healthTopLine, UNRULED_WEIGHT } from './account-health.ts';
import type { SeriesHealth } from './scorer.ts';

const NOW = Date.UTC(2024, 4, 6, 15, 0);

const weights = createHealthWeights([
  { ...ruleNamed('error_rate_rise'), weight: 1 },
  { ...ruleNamed('quota_exhaustion'), weight: 0.8 },
  { ...ruleNamed('integration_failures'), weight: 1, tierWeights: { 'self-serve': 0.6 } },
]);

describe('createHealthWeights', () => {
  it.each([
    ['error_rate_rise', 'strategic', 1],
    ['quota_exhaustion', 'strategic', 0.8],
    ['quota_exhaustion:forecast', 'growth', 0.8],
    ['integration_failures', 'strategic', 1],
    ['integration_failures', 'self-serve', 0.6],
    ['metric:cpu', 'strategic', UNRULED_WEIGHT],
  ])('%s on a %s account weighs %f', (watch, tier, w) => {
    expect(weights.weightOf(watch, tier)).toBe(w);
  });
});

describe('accountHealth', () => {
  const errors: SeriesHealth = {
    series: 'api_errors/api_requests',
    watch: 'error_rate_rise',
    ruled: true,
    score: 0.9,
    direction: 'up',
    expected: 0.01,
    observed: 0.041,
    lastMs: NOW,
    anomalousSinceMs: Date.UTC(2024, 4, 6, 9, 20),
  };
  const quota: SeriesHealth = {
    series: 'quota_used_ratio',
    watch: 'quota_exhaustion:forecast',
    ruled: true,
    score: 0.8,
    direction: 'up',
    expected: 0.8,
    observed: 0.81,
    lastMs: NOW,
    forecast: { crossingMs: NOW + 2 * 86_400_000, limit: 1 },
  };

  it('explains the top contributors: ratio x baseline since a UTC time, and the forecast crossing', () => {
    const h = accountHealth([errors, quota], weights, 'strategic', NOW);
    expect(h.contributors.map((c) => c.text)).toEqual([
      'api_errors/api_requests 4.1x baseline since 09:20 UTC',
      'quota_used_ratio reaches 1 in ~2 days (2024-05-08 15:00 UTC)',
    ]);
    expect(healthTopLine(h)).toBe(
      'api_errors/api_requests 4.1x baseline since 09:20 UTC; quota_used_ratio reaches 1 in ~2 days (2024-05-08 15:00 UTC)',
    );
    // (1 - 0.9) x (1 - 0.8 x 0.8 / 2)
    expect(h.score).toBeCloseTo(100 * 0.1 * (1 - 0.32), 6);
  });

  it('a tier weight of 0 takes a series out of the score', () => {
    const z = createHealthWeights([{ ...ruleNamed('error_rate_rise'), tierWeights: { growth: 0 } }]);
    expect(accountHealth([errors], z, 'growth', NOW).score).toBe(100);
    expect(accountHealth([errors], z, 'strategic', NOW).score).toBeCloseTo(10, 6);
  });

  it('a healthy account: 100 and nothing stands out', () => {
    const h = accountHealth([{ ...errors, score: 0 }], weights, 'strategic', NOW);
    expect(h.score).toBe(100);
    expect(healthTopLine(h)).toBe('no series is unusual');
  });

  it('an onset on another day names the day', () => {
    expect(formatSince(Date.UTC(2024, 4, 3, 9, 20), NOW)).toBe('May 3 09:20 UTC');
  });
});
