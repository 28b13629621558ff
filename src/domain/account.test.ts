import { describe, expect, it } from 'vitest';
import { accountRecord, type AccountInput } from './account.ts';

const base: AccountInput = {
  id: 'acme',
  name: 'Acme',
  contractValueUsd: 1000,
  monthlyUsage: 5,
  criticality: 'high',
  strategic: false,
  businessCritical: true,
  technicalContacts: [{ name: 'SRE', email: 'sre@acme.test' }],
  businessContacts: [],
};

describe('accountRecord', () => {
  it('keeps absent optional parts absent (no undefined keys) and is classified', () => {
    const a = accountRecord(base, 1, 2);
    expect(a).toEqual({
      id: 'acme',
      name: 'Acme',
      attributes: { contractValueUsd: 1000, monthlyUsage: 5, criticality: 'high', strategic: false, businessCritical: true },
      technicalContacts: [{ name: 'SRE', email: 'sre@acme.test' }],
      businessContacts: [],
      unclassified: false,
      createdAtMs: 1,
      updatedAtMs: 2,
    });
    expect(Object.keys(a)).not.toContain('timezone');
  });

  it('maps tier to tierOverride and carries csm, region and timezone', () => {
    const csm = { name: 'Dana', email: 'dana@vendor.test' };
    const a = accountRecord({ ...base, tier: 'strategic', csm, region: 'eu-west', timezone: 'Europe/Berlin' }, 1, 1);
    expect(a).toMatchObject({ tierOverride: 'strategic', csm, region: 'eu-west', timezone: 'Europe/Berlin' });
  });
});
