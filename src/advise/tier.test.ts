import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../config/load-rules.ts';
import type { TierCriteria, TiersConfig, TierSpec } from '../config/types.ts';
import type { AccountAttributes, Criticality } from '../domain/types.ts';
import { criticalityRank, deriveTier, meetsCriteria } from './tier.ts';

function tier(name: string, criteria: TierCriteria): TierSpec {
  return {
    name,
    rank: 0,
    description: '',
    criteria,
    slo: { ackMs: 1, firstResponseMs: 1, resolveMs: 1 },
    policy: { actions: { info: [], warning: [], critical: [] }, resolutionNote: true, cooldownMs: 0, escalation: [] },
  };
}

/** The shape of the default tiers. */
const TIERS: TiersConfig = {
  tiers: [
    tier('strategic', { strategic: true, minContractValueUsd: 500_000, match: 'any' }),
    tier('enterprise', { minContractValueUsd: 100_000, minCriticality: 'mission_critical', match: 'any' }),
    tier('growth', { minContractValueUsd: 10_000, minMonthlyUsage: 1_000_000, match: 'any' }),
    tier('self-serve', { match: 'any' }),
  ],
};

const base: AccountAttributes = {
  contractValueUsd: 0,
  monthlyUsage: 0,
  criticality: 'low',
  strategic: false,
  businessCritical: false,
};
const acct = (a: Partial<AccountAttributes>): AccountAttributes => ({ ...base, ...a });

describe('deriveTier', () => {
  it.each<[string, Partial<AccountAttributes>, string | undefined, string]>([
    ['strategic flag with a tiny contract', { strategic: true, contractValueUsd: 1_000 }, undefined, 'strategic'],
    ['contract exactly at the strategic line', { contractValueUsd: 500_000 }, undefined, 'strategic'],
    ['contract one dollar below the strategic line', { contractValueUsd: 499_999 }, undefined, 'enterprise'],
    ['contract exactly at the enterprise line', { contractValueUsd: 100_000 }, undefined, 'enterprise'],
    ['mission-critical with no contract', { criticality: 'mission_critical' }, undefined, 'enterprise'],
    ['high criticality is not enough for enterprise', { criticality: 'high', contractValueUsd: 99_999 }, undefined, 'growth'],
    ['heavy usage with no contract', { monthlyUsage: 1_000_000 }, undefined, 'growth'],
    ['just below every line', { contractValueUsd: 9_999, monthlyUsage: 999_999, criticality: 'high' }, undefined, 'self-serve'],
    ['nothing at all', {}, undefined, 'self-serve'],
    ['a NaN contract value meets no minimum', { contractValueUsd: Number.NaN }, undefined, 'self-serve'],
    ['override wins over criteria (strategic => growth)', { strategic: true }, 'growth', 'growth'],
    ['override raises a small account (self-serve => enterprise)', {}, 'enterprise', 'enterprise'],
    ['override to the fallback tier', { contractValueUsd: 1e6 }, 'self-serve', 'self-serve'],
    ['override naming no tier is ignored', { contractValueUsd: 1e6 }, 'gold', 'strategic'],
  ])('%s', (_name, attributes, override, want) => {
    expect(deriveTier(acct(attributes), TIERS, override)).toBe(want);
  });

  describe("match: 'all'", () => {
    const tiers: TiersConfig = {
      tiers: [tier('premium', { minContractValueUsd: 50_000, minCriticality: 'high', match: 'all' }), tier('basic', { match: 'any' })],
    };
    it.each<[string, Partial<AccountAttributes>, string]>([
      ['both hold', { contractValueUsd: 60_000, criticality: 'high' }, 'premium'],
      ['contract holds, criticality does not', { contractValueUsd: 60_000, criticality: 'medium' }, 'basic'],
      ['criticality holds, contract does not', { contractValueUsd: 40_000, criticality: 'mission_critical' }, 'basic'],
    ])('%s', (_name, attributes, want) => {
      expect(deriveTier(acct(attributes), tiers)).toBe(want);
    });
  });

  it('gives a tier without criteria only to those who reach it by override or fallback', () => {
    const tiers: TiersConfig = {
      tiers: [tier('internal', { match: 'any' }), tier('paid', { minContractValueUsd: 1, match: 'any' }), tier('free', { match: 'all' })],
    };
    expect(deriveTier(acct({ contractValueUsd: 5 }), tiers)).toBe('paid');
    expect(deriveTier(acct({}), tiers)).toBe('free');
    expect(deriveTier(acct({}), tiers, 'internal')).toBe('internal');
  });

  it('refuses an empty tiers config', () => {
    expect(() => deriveTier(base, { tiers: [] })).toThrow(/no tiers/);
  });

  it('places the seed accounts of the default rules in their intended tiers', () => {
    const rules = loadRules(fileURLToPath(new URL('../../rules', import.meta.url)));
    const got = Object.fromEntries(
      rules.accounts.map((a) => [
        a.id,
        deriveTier(
          {
            contractValueUsd: a.contractValueUsd,
            monthlyUsage: a.monthlyUsage,
            criticality: a.criticality,
            strategic: a.strategic,
            businessCritical: a.businessCritical,
          },
          rules.tiers,
          a.tier,
        ),
      ]),
    );
    expect(got).toEqual({
      'acme-corp': 'strategic',
      globex: 'enterprise',
      'umbrella-health': 'enterprise',
      initech: 'growth',
      'hooli-labs': 'self-serve',
      'stark-retail': 'enterprise',
    });
  });
});

describe('criticality', () => {
  it.each<[Criticality, Criticality, boolean]>([
    ['low', 'low', true],
    ['medium', 'low', true],
    ['low', 'medium', false],
    ['high', 'medium', true],
    ['medium', 'high', false],
    ['mission_critical', 'high', true],
    ['high', 'mission_critical', false],
    ['mission_critical', 'mission_critical', true],
  ])('%s meets a minimum of %s: %s', (have, min, want) => {
    expect(meetsCriteria(acct({ criticality: have }), { minCriticality: min, match: 'any' })).toBe(want);
  });

  it('orders low < medium < high < mission_critical', () => {
    expect((['low', 'medium', 'high', 'mission_critical'] as const).map(criticalityRank)).toEqual([0, 1, 2, 3]);
  });

  it('an unknown criticality meets no minimum', () => {
    expect(meetsCriteria(acct({ criticality: 'urgent' as Criticality }), { minCriticality: 'low', match: 'any' })).toBe(false);
  });
});
