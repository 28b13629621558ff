import { describe, expect, it } from 'vitest';
import { rulesFileSchema } from './schema.ts';

const base = {
  name: 'quota',
  metric: 'quota_used_ratio',
  domain: 'performance',
  component: 'billing',
  runbook_url: 'https://kb.example.com/q',
  title: 'Quota',
  guidance: 'Upgrade.',
  next_step: 'Call.',
};
const parse = (extra: Record<string, unknown>) => rulesFileSchema.safeParse({ rules: [{ ...base, ...extra }] });
const issues = (extra: Record<string, unknown>) => {
  const r = parse(extra);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('rules.yaml limit, weight and tier_weights', () => {
  it('limit: durations in ms, when defaults to above, critical_within to a quarter of the horizon; weight defaults to 1', () => {
    const r = parse({ limit: { value: 1, horizon: '8d' } });
    expect(r.success && r.data.rules[0]).toMatchObject({
      limit: { value: 1, when: 'above', horizonMs: 8 * 86_400_000, criticalWithinMs: 2 * 86_400_000 },
      weight: 1,
    });
  });

  it.each([
    [
      { limit: { value: 1, horizon: '7d', critical_within: '7d' } },
      'rules.0.limit.critical_within: critical_within must be shorter than horizon',
    ],
    [{ limit: { value: 1, horizon: 7 } }, 'rules.0.limit.horizon'],
    [{ limit: { value: 1, horizon: '7d', within: '1d' } }, 'rules.0.limit'],
    [{ limit: { horizon: '7d' } }, 'rules.0.limit.value'],
    [{ weight: 1.5 }, 'rules.0.weight'],
    [{ tier_weights: { growth: -1 } }, 'rules.0.tier_weights.growth'],
  ])('%j is rejected at its path', (extra, want) => {
    expect(issues(extra).some((i) => i.startsWith(want))).toBe(true);
  });

  it('tier_weights are kept as given', () => {
    const r = parse({ weight: 0.5, tier_weights: { growth: 0.2 } });
    expect(r.success && r.data.rules[0]).toMatchObject({ weight: 0.5, tierWeights: { growth: 0.2 } });
  });
});
