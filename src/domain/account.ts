/** Building an AccountRecord from what an operator said about an account (API body or accounts.yaml). */
import type { AccountRecord, Contact, Criticality } from './types.ts';

/** An account as described by an operator, before it is stored. */
export interface AccountInput {
  id: string;
  name: string;
  contractValueUsd: number;
  monthlyUsage: number;
  criticality: Criticality;
  strategic: boolean;
  businessCritical: boolean;
  /** explicit tier name */
  tier?: string;
  csm?: Contact;
  technicalContacts: Contact[];
  businessContacts: Contact[];
  region?: string;
  /** IANA time zone */
  timezone?: string;
}

/** The stored record for `input`; optional parts stay absent when not given. */
export function accountRecord(input: AccountInput, createdAtMs: number, updatedAtMs: number): AccountRecord {
  const a: AccountRecord = {
    id: input.id,
    name: input.name,
    attributes: {
      contractValueUsd: input.contractValueUsd,
      monthlyUsage: input.monthlyUsage,
      criticality: input.criticality,
      strategic: input.strategic,
      businessCritical: input.businessCritical,
    },
    technicalContacts: input.technicalContacts,
    businessContacts: input.businessContacts,
    unclassified: false,
    createdAtMs,
    updatedAtMs,
  };
  if (input.tier !== undefined) a.tierOverride = input.tier;
  if (input.csm) a.csm = input.csm;
  if (input.region !== undefined) a.region = input.region;
  if (input.timezone !== undefined) a.timezone = input.timezone;
  return a;
}
