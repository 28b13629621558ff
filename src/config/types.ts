/**
 * The validated, frozen shape of everything in a rules folder. The zod schemas in `schema.ts`
 * parse the YAML files into exactly these types (durations already turned into milliseconds,
 * defaults filled in), so every later stage can trust them.
 */
import type { ActionKind, TemplatedKind, Contact, Criticality, Domain, Priority, Severity } from '../domain/types.ts';

/** Measurable criteria for a tier. An account matches when `match` of the given criteria hold. */
export interface TierCriteria {
  minContractValueUsd?: number;
  minMonthlyUsage?: number;
  minCriticality?: Criticality;
  strategic?: boolean;
  /** 'any' (default): one listed criterion is enough; 'all': every listed criterion must hold */
  match: 'any' | 'all';
}

export interface TierSlo {
  /** time to acknowledge a ticket */
  ackMs: number;
  firstResponseMs: number;
  resolveMs: number;
}

export interface EscalationStep {
  /** escalate when a ticket is still unacknowledged this long after its ack due time */
  afterMs: number;
  /** who is told: an email address */
  notify: string;
}

export interface TierPolicy {
  /** actions triggered when a signal opens at, or escalates to, each severity */
  actions: Record<Severity, ActionKind[]>;
  /** send a resolution note (to whoever got an advisory) when the signal clears */
  resolutionNote: boolean;
  /** no second episode-opening advisory for the same account x rule within this time (event time) */
  cooldownMs: number;
  escalation: EscalationStep[];
}

export interface TierSpec {
  name: string;
  /** 0 = highest-value tier (first in the file) */
  rank: number;
  description: string;
  criteria: TierCriteria;
  slo: TierSlo;
  policy: TierPolicy;
}

export interface TiersConfig {
  /** ordered: highest-value first; the last is the fallback tier (and the tier of unclassified accounts) */
  tiers: TierSpec[];
}

/** Thresholds on the anomaly score [0, 1] that a signal rule maps to severities. */
export interface SeverityThresholds {
  info?: number;
  warning: number;
  critical: number;
}

export type DetectorChoice = 'seasonal' | 'drift' | 'combined';
export type DirectionChoice = 'up' | 'down' | 'both';

export interface RuleSpec {
  name: string;
  description: string;
  /** the watched series: a metric name, or `numerator/denominator` for ratio rules */
  series: string;
  metric?: string;
  ratio?: { numerator: string; denominator: string; minDenominator: number };
  detector: DetectorChoice;
  direction: DirectionChoice;
  domain: Domain;
  severity: SeverityThresholds;
  /** consecutive anomalous points needed to open (hysteresis on the way up) */
  openAfterPoints: number;
  /** score below which a point counts as normal again */
  resolveBelow: number;
  /** normal points needed in a row to resolve (hysteresis on the way down) */
  resolveAfterPoints: number;
  /** the affected component, named in technical advisories */
  component: string;
  runbookUrl: string;
  /** one-line, customer-safe description of the problem */
  title: string;
  /** plain-language self-serve guidance for preventive advisories */
  guidance: string;
  /** suggested next step for the CSM */
  nextStep: string;
  /** only points with observed values at or above this are considered (e.g. ignore idle accounts) */
  minValue?: number;
}

export interface RulesConfig {
  rules: RuleSpec[];
}

export interface QueueSpec {
  queue: string;
  /** specialists' address; ticket notifications go there */
  email?: string;
}

export interface RoutingConfig {
  queues: Record<Domain, QueueSpec>;
  /** priority by severity x tier name */
  priority: Record<Severity, Record<string, Priority>>;
  /** business-critical accounts get their priority raised by this many steps (P3 -> P2 for 1) */
  businessCriticalRaise: number;
}

export interface TemplateSpec {
  subject: string;
  text: string;
  html: string;
}

export type TemplatesConfig = Record<TemplatedKind, TemplateSpec>;

/** Accounts to seed at start (rules/accounts.yaml, optional). */
export interface AccountSeed {
  id: string;
  name: string;
  contractValueUsd: number;
  monthlyUsage: number;
  criticality: Criticality;
  strategic: boolean;
  businessCritical: boolean;
  tier?: string;
  csm?: Contact;
  technicalContacts: Contact[];
  businessContacts: Contact[];
  region?: string;
}

/** Everything in a rules folder. */
export interface RulesBundle {
  dir: string;
  tiers: TiersConfig;
  rules: RulesConfig;
  routing: RoutingConfig;
  templates: TemplatesConfig;
  accounts: AccountSeed[];
}
