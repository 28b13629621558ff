/**
 * The validated, frozen shape of everything in a rules folder. The zod schemas in `schema.ts`
 * parse the YAML files into exactly these types (durations already turned into milliseconds,
 * defaults filled in), so every later stage can trust them.
 */
import type { AccountInput } from '../domain/account.ts';
import type { ActionKind, TemplatedKind, Criticality, Domain, Priority, Severity } from '../domain/types.ts';

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
  /**
   * ratio rules: points whose denominator is below `minDenominator` are skipped; points whose
   * numerator is below `minNumerator` (when set) score 0 (the detector still learns them)
   */
  ratio?: { numerator: string; denominator: string; minDenominator: number; minNumerator?: number };
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
  /**
   * deviations up to this many robust sigmas from the seasonal baseline score 0 (default 3):
   * lower catches smaller changes sooner, at the cost of more false alarms
   */
  sensitivitySigmas?: number;
  /** a limit the series must not cross: a forecast warns before it does (see detect/forecast.ts) */
  limit?: LimitSpec;
  /** the rule's weight in the account health score, in [0, 1] (filled in: default 1) */
  weight?: number;
  /** per-tier overrides of `weight` (tier name -> weight in [0, 1]); tier names are checked against tiers.yaml */
  tierWeights?: Record<string, number>;
}

/** A limit declared on a rule (`limit: { value: 1.0, horizon: 7d }`). */
export interface LimitSpec {
  value: number;
  /** 'above' (default): reaching the limit from below is the problem; 'below': falling to it */
  when: 'above' | 'below';
  /** a crossing predicted within this time raises a forecast signal (warning) */
  horizonMs: number;
  /** ... and within this time it is critical (default: a quarter of the horizon) */
  criticalWithinMs: number;
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
export type AccountSeed = AccountInput;

/** Everything in a rules folder. */
export interface RulesBundle {
  dir: string;
  tiers: TiersConfig;
  rules: RulesConfig;
  routing: RoutingConfig;
  templates: TemplatesConfig;
  accounts: AccountSeed[];
  /** pull sources of rules/sources.yaml (optional file; empty when absent) */
  sources: SourceSpec[];
}

// ---------------------------------------------------------------------------------------------
// sources.yaml (optional): pull sources

/** The kinds of pull source. */
export type SourceKind = 'sql' | 'prometheus' | 'http_json';

/** Retry delays after a failed pull: `initialMs`, doubling per consecutive failure, at most `maxMs`. */
export interface SourceBackoff {
  initialMs: number;
  maxMs: number;
}

/** Where one mapped field comes from: a column / dotted path of the row or item, or a fixed value. */
export type FieldSource = { from: string } | { fixed: string };

/**
 * How a row (SQL) or item (HTTP JSON) becomes points: one point per entry of `values`, each with
 * the row's account and event time.
 */
export interface FieldMapping {
  account: FieldSource;
  /** column / path of the event time; undefined: the wall time of the pull */
  time?: string;
  /** unit of numeric event times */
  timeUnit: 'ms' | 's';
  values: Array<{ metric: FieldSource; value: string }>;
}

/** What every pull source has. */
export interface SourceSpecBase {
  name: string;
  kind: SourceKind;
  /** false: declared and validated, but never pulled */
  enabled: boolean;
  intervalMs: number;
  /** one request / query may take at most this long */
  timeoutMs: number;
  backoff: SourceBackoff;
}

/** An incremental query against PostgreSQL. */
export interface SqlSourceSpec extends SourceSpecBase {
  kind: 'sql';
  /** postgres:// URL, either given or read from the environment variable `urlEnv` at start */
  url?: string;
  urlEnv?: string;
  /** table mode: the puller writes the keyset query */
  table?: string;
  /** query mode: the user's query with `$1` = cursor, optional `$2` = key of the last row, `$3` = batch size */
  query?: string;
  /** the cursor column (e.g. updated_at): rows are read in its order */
  cursor: string;
  /** the tie-breaker column, unique per row (e.g. id) */
  key: string;
  /** cursor value before the first pull (exclusive); undefined in table mode: from the first row */
  start?: string;
  batchSize: number;
  /** at most this many pages per pull; the next pull follows at once when more are waiting */
  maxPages: number;
  /** table mode: rows whose cursor is newer than now() minus this are left for a later pull */
  settleMs: number;
  map: FieldMapping;
}

/** One scrape target of a Prometheus source. */
export interface ScrapeTarget {
  url: string;
  /** account of every sample of the target that has no account label */
  account?: string;
}

/** Prometheus / OpenMetrics scrapes. */
export interface PrometheusSourceSpec extends SourceSpecBase {
  kind: 'prometheus';
  targets: ScrapeTarget[];
  /** label holding the account id (wins over the target's `account`) */
  accountLabel?: string;
  /** metric names to keep (`*` wildcards); empty: every metric */
  include: string[];
  /** label values appended to the metric name (`http_requests_total` + method=GET -> `http_requests_total_GET`) */
  suffixLabels: string[];
  /** counters (and histogram/summary _count, _sum, _bucket): `delta` = increase since the previous scrape */
  counters: 'delta' | 'raw';
  /** use the sample's own timestamp when it has one (else the scrape time) */
  honorTimestamps: boolean;
  /** header name -> environment variable holding its value */
  headersEnv: Record<string, string>;
}

/** A JSON document polled over HTTP. */
export interface HttpJsonSourceSpec extends SourceSpecBase {
  kind: 'http_json';
  url: string;
  /** dotted path of the array of items in the body; undefined: the body is the array */
  items?: string;
  map: FieldMapping;
  /** query parameter carrying the newest event time already pulled */
  cursorParam?: string;
  cursorFormat: 'iso' | 'ms' | 's';
  /** fixed request headers */
  headers: Record<string, string>;
  /** header name -> environment variable holding its value */
  headersEnv: Record<string, string>;
}

/** One entry of sources.yaml. */
export type SourceSpec = SqlSourceSpec | PrometheusSourceSpec | HttpJsonSourceSpec;
