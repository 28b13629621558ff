/**
 * Tier derivation (pure): which tier of the rules an account belongs to, from its attributes.
 * An explicit override wins when it names a tier; otherwise the first tier (highest value first)
 * whose criteria the account meets; otherwise the last tier, the fallback.
 */
import type { TierCriteria, TiersConfig } from '../config/types.ts';
import type { AccountAttributes, Criticality } from '../domain/types.ts';
import { CRITICALITIES } from '../domain/types.ts';

/** Position of a criticality in the order low < medium < high < mission_critical; -1 if unknown. */
export function criticalityRank(criticality: Criticality): number {
  return CRITICALITIES.indexOf(criticality);
}

/**
 * Whether an account meets a tier's criteria: with `match: 'any'` one listed criterion is
 * enough, with `'all'` every listed one must hold. A tier that lists no criteria matches no
 * account (it is reached by override, or as the fallback when it is last). Non-finite
 * attribute values never meet a minimum.
 */
export function meetsCriteria(attributes: AccountAttributes, criteria: TierCriteria): boolean {
  const checks: boolean[] = [];
  if (criteria.minContractValueUsd !== undefined) checks.push(attributes.contractValueUsd >= criteria.minContractValueUsd);
  if (criteria.minMonthlyUsage !== undefined) checks.push(attributes.monthlyUsage >= criteria.minMonthlyUsage);
  if (criteria.minCriticality !== undefined) {
    const have = criticalityRank(attributes.criticality);
    checks.push(have >= 0 && have >= criticalityRank(criteria.minCriticality));
  }
  if (criteria.strategic !== undefined) checks.push(attributes.strategic === criteria.strategic);
  if (checks.length === 0) return false;
  return criteria.match === 'all' ? checks.every(Boolean) : checks.some(Boolean);
}

/**
 * The tier name of an account.
 *
 * @param attributes what the operator said about the account
 * @param tiers the validated tiers, highest-value first (never empty after validation)
 * @param override an explicit tier name; it wins when it names a tier and is ignored otherwise
 * @returns the override, else the first tier whose criteria match, else the last tier
 */
export function deriveTier(attributes: AccountAttributes, tiers: TiersConfig, override?: string): string {
  const list = tiers.tiers;
  const fallback = list[list.length - 1];
  if (!fallback) throw new RangeError('tier derivation: the tiers config has no tiers');
  if (override !== undefined && list.some((t) => t.name === override)) return override;
  for (const tier of list) {
    if (meetsCriteria(attributes, tier.criteria)) return tier.name;
  }
  return fallback.name;
}
