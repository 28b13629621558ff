/**
 * Plain types shared by every pipeline stage. No behaviour lives here.
 *
 * Time convention: every instant is a number of milliseconds since the Unix epoch (UTC), named
 * `...Ms`. "Event time" is the clock of the data (point timestamps); "wall time" is the clock of
 * the machine. Signals, advisories and tickets record both.
 */

/** One telemetry sample of one account. */
export interface Point {
  /** account id (from the `account` tag or the JSON `account` field) */
  account: string;
  /** metric name; for line protocol `<measurement>_<field>` */
  metric: string;
  /** event time, ms since epoch */
  tsMs: number;
  value: number;
  /** extra tags, kept for provenance; not part of the series identity */
  tags?: Record<string, string>;
}

/** Identity of one series: account x metric. */
export interface SeriesKey {
  account: string;
  metric: string;
}

export type Domain = 'security' | 'performance' | 'integrations' | 'data';
export const DOMAINS: readonly Domain[] = ['security', 'performance', 'integrations', 'data'];

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export type Priority = 'P1' | 'P2' | 'P3' | 'P4';

export type Direction = 'up' | 'down' | 'none';

/** Email kinds rendered from the templates in rules/templates/. */
export type TemplatedKind = 'csm_alert' | 'preventive_advisory' | 'technical_advisory' | 'resolution_note';
/**
 * Every kind of outgoing email; `ticket_escalation` tells an escalation contact a ticket is overdue;
 * `data_gap` tells operators (the data queue) that telemetry stopped arriving - never a customer.
 */
export type AdvisoryKind = TemplatedKind | 'ticket_escalation' | 'data_gap';
export const ADVISORY_KINDS: readonly TemplatedKind[] = ['csm_alert', 'preventive_advisory', 'technical_advisory', 'resolution_note'];

/** An action a tier policy may trigger. `ticket` opens a pre-emptive ticket. */
export type ActionKind = 'csm_alert' | 'preventive_advisory' | 'technical_advisory' | 'ticket';

export type Criticality = 'low' | 'medium' | 'high' | 'mission_critical';
export const CRITICALITIES: readonly Criticality[] = ['low', 'medium', 'high', 'mission_critical'];

export interface Contact {
  name: string;
  email: string;
}

/** Attributes that tier criteria are evaluated against. */
export interface AccountAttributes {
  contractValueUsd: number;
  /** usage volume, e.g. monthly API calls or active users; the unit is the operator's */
  monthlyUsage: number;
  criticality: Criticality;
  strategic: boolean;
  /** business-critical accounts raise ticket urgency by one step */
  businessCritical: boolean;
}

/** An account as stored (what the operator said about it). */
export interface AccountRecord {
  id: string;
  name: string;
  attributes: AccountAttributes;
  /** explicit tier name that wins over derivation */
  tierOverride?: string;
  csm?: Contact;
  technicalContacts: Contact[];
  businessContacts: Contact[];
  region?: string;
  /** IANA time zone of the account's users (e.g. Europe/Berlin); time of day and weekends follow it */
  timezone?: string;
  /** true while the account was only seen in telemetry and nobody has classified it */
  unclassified: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Output of a detector for one point. */
export interface AnomalyScore {
  /** anomaly score in [0, 1]; 0 = normal */
  score: number;
  direction: Direction;
  /** what the detector expected at this time */
  expected: number;
  observed: number;
  /** signed deviation in robust sigmas (observed - expected) / scale */
  deviation: number;
  /** which detector produced the largest score */
  detector: string;
}

export type SignalState = 'open' | 'resolved';

/** One incident of one rule on one account (an episode), from open to resolved. */
export interface Signal {
  id: string;
  account: string;
  rule: string;
  /** series the rule watches: a metric or a ratio `a/b` */
  metric: string;
  domain: Domain;
  severity: Severity;
  state: SignalState;
  direction: Direction;
  /** event time the anomaly started (first point over the open threshold) */
  onsetMs: number;
  openedAtMs: number;
  openedAtWallMs: number;
  /** last severity change (event / wall time) */
  escalatedAtMs?: number;
  escalatedAtWallMs?: number;
  resolvedAtMs?: number;
  resolvedAtWallMs?: number;
  peakScore: number;
  lastScore: number;
  expected: number;
  observed: number;
  /** tier of the account when the signal opened */
  tier: string;
  runbookUrl?: string;
  summary: string;
  /** limit forecasts (rules with a `limit`): predicted event time the series crosses the limit */
  forecastCrossingMs?: number;
  /** early end of the forecast interval */
  forecastLowMs?: number;
  /** late end of the forecast interval (absent: open-ended) */
  forecastHighMs?: number;
  /** the limit the forecast is about */
  forecastLimit?: number;
  /** the account's health when the signal last changed (0..100) and a one-line summary of its top contributors */
  health?: { score: number; top: string };
}

export type AdvisoryStatus = 'pending' | 'sent' | 'failed';

/** An outgoing email, recorded in the outbox before it is sent. */
export interface Advisory {
  id: string;
  /** idempotency key: the same key is never sent twice */
  dedupKey: string;
  signalId: string;
  account: string;
  kind: AdvisoryKind;
  severity: Severity;
  tier: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  decidedAtMs: number;
  decidedAtWallMs: number;
  status: AdvisoryStatus;
  attempts: number;
  nextAttemptAtWallMs: number;
  sentAtWallMs?: number;
  lastError?: string;
}

export type TicketState = 'open' | 'acknowledged' | 'resolved';

export interface Ticket {
  id: string;
  signalId: string;
  account: string;
  tier: string;
  domain: Domain;
  queue: string;
  priority: Priority;
  severity: Severity;
  title: string;
  description: string;
  state: TicketState;
  createdAtMs: number;
  createdAtWallMs: number;
  /** SLO due times (wall clock: people work in wall time) */
  ackDueWallMs: number;
  firstResponseDueWallMs: number;
  resolveDueWallMs: number;
  ackedAtWallMs?: number;
  resolvedAtWallMs?: number;
  /** escalation level reached (0 = none) */
  escalationLevel: number;
}
