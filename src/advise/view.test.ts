/**
 * The email template view: number formatting for people, the signed deviation, and the view
 * object every template variable of TEMPLATE_VARIABLES resolves against.
 */
import { describe, expect, it } from 'vitest';
import { TEMPLATE_VARIABLES } from '../config/schema.ts';
import { makeAccount, makeSignal, ruleNamed, T0 } from '../../test/fixtures/bundle.ts';
import { deviationPct, formatNumber, templateView } from './view.ts';

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [10, '10'],
    [12, '12'],
    [12.5, '12.5'],
    [1.234, '1.23'],
    [99.999, '100'],
    [150.4, '150'],
    [999, '999'],
    [1000, '1,000'],
    [1234.5, '1,235'],
    [52_000_000, '52,000,000'],
    [-2500, '-2,500'],
    [-3.5, '-3.5'],
    [0.012345, '0.012'],
    [-0.012345, '-0.012'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('%s -> %s', (x, want) => {
    expect(formatNumber(x)).toBe(want);
  });

  it('never prints an exponent for ordinary magnitudes (1e-3 .. 1e12)', () => {
    for (const x of [0.001, 0.5, 3, 42, 512, 7_000, 1e6, 1e9, 1e12]) expect(formatNumber(x)).not.toMatch(/e/i);
  });
});

describe('deviationPct', () => {
  it.each([
    ['observed 4x baseline', 120, 480, '+300%'],
    ['observed half the baseline', 200, 100, '-50%'],
    ['observed equals baseline', 50, 50, '+0%'],
    ['negative baseline, observed closer to zero', -100, -50, '+50%'],
    ['negative baseline, observed further from zero', -100, -150, '-50%'],
    ['baseline zero', 0, 10, ''],
    ['baseline below 1e-12', 1e-13, 10, ''],
    ['baseline NaN', Number.NaN, 10, ''],
    ['baseline Infinity', Number.POSITIVE_INFINITY, 10, ''],
    ['rounds to whole percent', 3, 4, '+33%'],
  ])('%s (expected %s, observed %s) -> %j', (_name, expected, observed, want) => {
    expect(deviationPct(expected, observed)).toBe(want);
  });

  it('a tiny drop below baseline that rounds to 0 prints +0% or 0%, never "-0%"', () => {
    // 99.6 vs 100 is -0.4%: (-0.4).toFixed(0) is "-0"
    expect(deviationPct(100, 99.6)).toMatch(/^\+?0%$/);
  });
});

describe('templateView', () => {
  const rule = ruleNamed('latency_creep');

  it('fills every variable of TEMPLATE_VARIABLES with a string', () => {
    const view = templateView({
      account: makeAccount(),
      tier: 'growth',
      signal: makeSignal(),
      rule,
      decidedAtMs: T0,
      dashboardUrl: 'http://x/accounts/acme',
    });
    for (const name of TEMPLATE_VARIABLES) {
      const value = name.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], view);
      expect(typeof value, name).toBe('string');
    }
  });

  it('takes the title, guidance and runbook from the rule and the numbers from the signal, formatted', () => {
    const view = templateView({
      account: makeAccount(),
      tier: 'growth',
      signal: makeSignal({ expected: 1204.4, observed: 4821.2, peakScore: 0.876, onsetMs: Date.UTC(2024, 2, 7, 9, 45) }),
      rule,
      decidedAtMs: Date.UTC(2024, 2, 7, 10, 0, 0, 250),
      dashboardUrl: 'http://x/accounts/acme',
    });
    expect(view.signal).toMatchObject({
      title: rule.title,
      expected: '1,204',
      observed: '4,821',
      deviation_pct: '+300%',
      score: '0.88',
      onset: '2024-03-07T09:45:00Z',
      metric: 'api_latency_p95_ms',
      domain: 'performance',
      severity: 'warning',
      direction: 'up',
    });
    expect(view.rule).toEqual({
      name: 'latency_creep',
      component: rule.component,
      runbook_url: rule.runbookUrl,
      guidance: rule.guidance,
      next_step: rule.nextStep,
    });
    // whole seconds drop the .000, other instants keep their milliseconds
    expect(view.decided_at).toBe('2024-03-07T10:00:00.250Z');
    expect(view.tier).toBe('growth');
    expect(view.dashboard_url).toBe('http://x/accounts/acme');
    expect(view.csm).toEqual({ name: 'Dana CSM', email: 'dana@vendor.example' });
    expect(view.account).toEqual({ id: 'acme', name: 'Acme Corp', region: 'us-east' });
  });

  it.each([
    ['open signal: resolved_at empty', makeSignal(), ''],
    [
      'resolved signal: resolved_at is its event time',
      makeSignal({ state: 'resolved', resolvedAtMs: Date.UTC(2024, 2, 7, 12) }),
      '2024-03-07T12:00:00Z',
    ],
  ])('%s', (_name, signal, want) => {
    expect(templateView({ account: makeAccount(), tier: 'growth', signal, rule, decidedAtMs: T0, dashboardUrl: '' }).resolved_at).toBe(
      want,
    );
  });

  it('an account without CSM or region renders empty strings (templates guard them with sections)', () => {
    const { csm: _c, region: _r, ...bare } = makeAccount();
    const view = templateView({ account: bare, tier: 'self-serve', signal: makeSignal(), rule, decidedAtMs: T0, dashboardUrl: '' });
    expect(view.csm).toEqual({ name: '', email: '' });
    expect(view.account.region).toBe('');
  });
});
