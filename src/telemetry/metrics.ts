/**
 * Every Prometheus metric Forewarn exports, declared in one place on a registry passed in
 * (never the global one), so tests can create as many independent apps as they like.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** pull sources (rules/sources.yaml): pulls by outcome, points, rejects, freshness */
  sourcePulls: Counter<'source' | 'outcome'>;
  sourcePoints: Counter<'source'>;
  sourceRowsRejected: Counter<'source' | 'reason'>;
  sourceLastSuccess: Gauge<'source'>;
  sourceLag: Gauge<'source'>;
  sourceConsecutiveFailures: Gauge<'source'>;
  sourcePullDuration: Histogram<'source'>;
  ingestPoints: Counter<'source'>;
  ingestRequests: Counter<'endpoint' | 'code'>;
  ingestLatency: Histogram<'endpoint'>;
  pointsRejected: Counter<'reason'>;
  detectorPoints: Counter;
  signalsOpen: Gauge<'tier' | 'domain'>;
  signalTransitions: Counter<'transition' | 'tier' | 'domain'>;
  advisoriesQueued: Counter<'kind'>;
  advisoriesSent: Counter<'kind'>;
  advisorySendFailures: Counter<'kind' | 'retryable'>;
  outboxDepth: Gauge;
  pointToHandoff: Histogram;
  ticketsOpened: Counter<'priority' | 'queue'>;
  ticketSloBreaches: Counter<'tier' | 'clock'>;
  /** event-time lag of the detector: wall clock at arrival minus the newest event time of the latest scored batch */
  detectorLag: Gauge;
  spoolBytes: Gauge;
  serverWriteFailures: Counter;
}

export interface MetricsOptions {
  /** also export process/runtime metrics (off in tests) */
  defaultMetrics?: boolean;
}

/** Creates the registry and every metric on it. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'forewarn_' });
  const r = [registry];
  return {
    registry,
    sourcePulls: new Counter({
      name: 'forewarn_source_pulls_total',
      help: 'Pulls of each pull source, by outcome (success, failure).',
      labelNames: ['source', 'outcome'],
      registers: r,
    }),
    sourcePoints: new Counter({
      name: 'forewarn_source_points_total',
      help: 'Points pulled from each pull source and accepted by ingest.',
      labelNames: ['source'],
      registers: r,
    }),
    sourceRowsRejected: new Counter({
      name: 'forewarn_source_rows_rejected_total',
      help: 'Rows, items or samples of a pull source that were rejected, by reason.',
      labelNames: ['source', 'reason'],
      registers: r,
    }),
    sourceLastSuccess: new Gauge({
      name: 'forewarn_source_last_success_timestamp_seconds',
      help: 'Wall time of the last successful pull of each source (0: never).',
      labelNames: ['source'],
      registers: r,
    }),
    sourceLag: new Gauge({
      name: 'forewarn_source_lag_seconds',
      help: 'Wall time minus the newest event time pulled from each source.',
      labelNames: ['source'],
      registers: r,
    }),
    sourceConsecutiveFailures: new Gauge({
      name: 'forewarn_source_consecutive_failures',
      help: 'Failed pulls in a row of each source (0: healthy).',
      labelNames: ['source'],
      registers: r,
    }),
    sourcePullDuration: new Histogram({
      name: 'forewarn_source_pull_duration_seconds',
      help: 'Time one pull of a source takes, from the first request to the stored cursor.',
      labelNames: ['source'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    ingestPoints: new Counter({
      name: 'forewarn_ingest_points_total',
      help: 'Points accepted and durably stored, by source.',
      labelNames: ['source'],
      registers: r,
    }),
    ingestRequests: new Counter({
      name: 'forewarn_ingest_requests_total',
      help: 'Ingest requests by endpoint and HTTP status code.',
      labelNames: ['endpoint', 'code'],
      registers: r,
    }),
    ingestLatency: new Histogram({
      name: 'forewarn_ingest_request_duration_seconds',
      help: 'Time to parse, store and score one ingest request.',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    pointsRejected: new Counter({
      name: 'forewarn_points_rejected_total',
      help: 'Points (or lines) rejected at ingest, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    detectorPoints: new Counter({ name: 'forewarn_detector_points_total', help: 'Points scored by the detectors.', registers: r }),
    signalsOpen: new Gauge({
      name: 'forewarn_signals_open',
      help: 'Open signals by tier and domain.',
      labelNames: ['tier', 'domain'],
      registers: r,
    }),
    signalTransitions: new Counter({
      name: 'forewarn_signal_transitions_total',
      help: 'Signal state changes (opened, escalated, resolved).',
      labelNames: ['transition', 'tier', 'domain'],
      registers: r,
    }),
    advisoriesQueued: new Counter({
      name: 'forewarn_advisories_queued_total',
      help: 'Advisories written to the outbox, by kind.',
      labelNames: ['kind'],
      registers: r,
    }),
    advisoriesSent: new Counter({
      name: 'forewarn_advisories_sent_total',
      help: 'Advisories handed to the mail transport, by kind.',
      labelNames: ['kind'],
      registers: r,
    }),
    advisorySendFailures: new Counter({
      name: 'forewarn_advisory_send_failures_total',
      help: 'Failed delivery attempts, by kind and whether they will be retried.',
      labelNames: ['kind', 'retryable'],
      registers: r,
    }),
    outboxDepth: new Gauge({ name: 'forewarn_outbox_depth', help: 'Advisories waiting in the outbox.', registers: r }),
    pointToHandoff: new Histogram({
      name: 'forewarn_point_to_handoff_seconds',
      help: 'Wall time from the arrival of the point that opened a signal to its advisory being accepted by the mail transport.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    ticketsOpened: new Counter({
      name: 'forewarn_tickets_opened_total',
      help: 'Pre-emptive tickets opened, by priority and queue.',
      labelNames: ['priority', 'queue'],
      registers: r,
    }),
    ticketSloBreaches: new Counter({
      name: 'forewarn_ticket_slo_breaches_total',
      help: 'Tickets that passed an SLO due time, by tier and clock (ack, first_response, resolve).',
      labelNames: ['tier', 'clock'],
      registers: r,
    }),
    spoolBytes: new Gauge({
      name: 'forewarn_spool_bytes',
      help: 'Bytes in the local spool not yet acknowledged by the time-series server (FOREWARN_STORE=influx).',
      registers: r,
    }),
    serverWriteFailures: new Counter({
      name: 'forewarn_server_write_failures_total',
      help: 'Failed write requests to the time-series server (each is retried from the spool).',
      registers: r,
    }),
    detectorLag: new Gauge({
      name: 'forewarn_detector_lag_seconds',
      help: 'Event-time lag of the detector: wall clock at arrival minus the newest event time in the latest scored batch.',
      registers: r,
    }),
  };
}
