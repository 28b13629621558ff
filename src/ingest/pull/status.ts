/**
 * The status of each pull source as `GET /api/sources` shows it and `/metrics` exports it: last
 * success, last error, lag, points pulled, rows rejected by reason and the latest rejects with
 * their reasons. One tracker per source, updated by the scheduler; counters are since start,
 * last success and newest event time survive restarts through the cursor record.
 */
import type { SourceKind } from '../../config/types.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import type { PullReject } from './source.ts';

/** How many recent rejects each source keeps for the status endpoint. */
export const RECENT_REJECTS = 20;

/** What a source is doing. */
export type SourceState = 'disabled' | 'idle' | 'running' | 'backoff';

/** A reject as the status keeps it. */
export interface RecentReject extends PullReject {
  atMs: number;
}

/** The status of one source. */
export interface SourceStatus {
  name: string;
  kind: SourceKind;
  enabled: boolean;
  state: SourceState;
  intervalMs: number;
  lastRunAtMs?: number;
  lastSuccessAtMs?: number;
  lastError?: { atMs: number; message: string };
  consecutiveFailures: number;
  nextRunAtMs?: number;
  /** newest event time pulled (also from before a restart) */
  newestEventMs?: number;
  /** points accepted by ingest since start */
  pointsPulled: number;
  /** rows, items or samples rejected since start (mapping and admission) */
  rowsRejected: number;
  rejectsByReason: Record<string, number>;
  /** rows re-read at a cursor boundary and skipped because they were pulled before */
  skipped: number;
  recentRejects: RecentReject[];
}

/** The JSON of `GET /api/sources` for one source: ISO times, durations in seconds. */
export interface SourceStatusJson {
  name: string;
  kind: SourceKind;
  enabled: boolean;
  state: SourceState;
  intervalSeconds: number;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  lastError: { at: string; message: string } | null;
  consecutiveFailures: number;
  nextRunAt: string | null;
  newestEventAt: string | null;
  /** wall time minus the newest event time pulled; null before any point */
  lagSeconds: number | null;
  pointsPulled: number;
  rowsRejected: number;
  rejectsByReason: Record<string, number>;
  skipped: number;
  recentRejects: Array<{ at: string; origin: string; code: string; reason: string }>;
}

/** Updates one source's status and its metrics together. */
export interface StatusTracker {
  readonly status: SourceStatus;
  started(nowMs: number): void;
  /** one page stored: accepted points, rejects (mapping and admission), skipped rows, newest event time */
  page(nowMs: number, accepted: number, rejects: readonly PullReject[], skipped: number, newestEventMs: number | undefined): void;
  /** a non-fatal problem (recorded as the last error without counting a failure) */
  warn(nowMs: number, message: string): void;
  succeeded(nowMs: number, nextRunAtMs: number, durationMs: number): void;
  failed(nowMs: number, message: string, nextRunAtMs: number, durationMs: number): void;
  /** sets the lag gauge from the current wall time */
  refresh(nowMs: number): void;
}

const iso = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15 ? null : new Date(ms).toISOString();

/** Creates the tracker of one source. */
export function createStatusTracker(
  init: Pick<SourceStatus, 'name' | 'kind' | 'enabled' | 'intervalMs'> & { lastSuccessAtMs?: number; newestEventMs?: number },
  metrics?: Metrics,
): StatusTracker {
  const status: SourceStatus = {
    name: init.name,
    kind: init.kind,
    enabled: init.enabled,
    state: init.enabled ? 'idle' : 'disabled',
    intervalMs: init.intervalMs,
    consecutiveFailures: 0,
    pointsPulled: 0,
    rowsRejected: 0,
    rejectsByReason: {},
    skipped: 0,
    recentRejects: [],
  };
  if (init.lastSuccessAtMs !== undefined) status.lastSuccessAtMs = init.lastSuccessAtMs;
  if (init.newestEventMs !== undefined) status.newestEventMs = init.newestEventMs;
  const source = init.name;
  if (metrics && init.enabled) {
    // pre-create the series so dashboards see the source before its first pull
    metrics.sourcePoints.inc({ source }, 0);
    metrics.sourcePulls.inc({ source, outcome: 'success' }, 0);
    metrics.sourcePulls.inc({ source, outcome: 'failure' }, 0);
    metrics.sourceConsecutiveFailures.set({ source }, 0);
    metrics.sourceLastSuccess.set({ source }, (init.lastSuccessAtMs ?? 0) / 1000);
  }
  const tracker: StatusTracker = {
    status,
    started(nowMs) {
      status.state = 'running';
      status.lastRunAtMs = nowMs;
    },
    page(nowMs, accepted, rejects, skipped, newestEventMs) {
      status.pointsPulled += accepted;
      status.skipped += skipped;
      metrics?.sourcePoints.inc({ source }, accepted);
      for (const r of rejects) {
        status.rowsRejected += 1;
        status.rejectsByReason[r.code] = (status.rejectsByReason[r.code] ?? 0) + 1;
        metrics?.sourceRowsRejected.inc({ source, reason: r.code });
        status.recentRejects.push({ ...r, atMs: nowMs });
      }
      if (status.recentRejects.length > RECENT_REJECTS) status.recentRejects.splice(0, status.recentRejects.length - RECENT_REJECTS);
      if (newestEventMs !== undefined && (status.newestEventMs === undefined || newestEventMs > status.newestEventMs)) {
        status.newestEventMs = newestEventMs;
      }
      tracker.refresh(nowMs);
    },
    warn(nowMs, message) {
      status.lastError = { atMs: nowMs, message };
    },
    succeeded(nowMs, nextRunAtMs, durationMs) {
      status.state = 'idle';
      status.lastSuccessAtMs = nowMs;
      status.consecutiveFailures = 0;
      status.nextRunAtMs = nextRunAtMs;
      metrics?.sourcePulls.inc({ source, outcome: 'success' });
      metrics?.sourceLastSuccess.set({ source }, nowMs / 1000);
      metrics?.sourceConsecutiveFailures.set({ source }, 0);
      metrics?.sourcePullDuration.observe({ source }, durationMs / 1000);
      tracker.refresh(nowMs);
    },
    failed(nowMs, message, nextRunAtMs, durationMs) {
      status.state = 'backoff';
      status.consecutiveFailures += 1;
      status.lastError = { atMs: nowMs, message };
      status.nextRunAtMs = nextRunAtMs;
      metrics?.sourcePulls.inc({ source, outcome: 'failure' });
      metrics?.sourceConsecutiveFailures.set({ source }, status.consecutiveFailures);
      metrics?.sourcePullDuration.observe({ source }, durationMs / 1000);
      tracker.refresh(nowMs);
    },
    refresh(nowMs) {
      if (metrics && status.newestEventMs !== undefined)
        metrics.sourceLag.set({ source }, Math.max(0, nowMs - status.newestEventMs) / 1000);
    },
  };
  return tracker;
}

/** The API form of a status at wall time `nowMs`. */
export function statusJson(s: SourceStatus, nowMs: number): SourceStatusJson {
  return {
    name: s.name,
    kind: s.kind,
    enabled: s.enabled,
    state: s.state,
    intervalSeconds: s.intervalMs / 1000,
    lastRunAt: iso(s.lastRunAtMs),
    lastSuccessAt: iso(s.lastSuccessAtMs),
    lastError: s.lastError ? { at: iso(s.lastError.atMs) ?? '', message: s.lastError.message } : null,
    consecutiveFailures: s.consecutiveFailures,
    nextRunAt: iso(s.nextRunAtMs),
    newestEventAt: iso(s.newestEventMs),
    lagSeconds: s.newestEventMs === undefined ? null : Math.max(0, nowMs - s.newestEventMs) / 1000,
    pointsPulled: s.pointsPulled,
    rowsRejected: s.rowsRejected,
    rejectsByReason: { ...s.rejectsByReason },
    skipped: s.skipped,
    recentRejects: s.recentRejects.map((r) => ({ at: iso(r.atMs) ?? '', origin: r.origin, code: r.code, reason: r.reason })),
  };
}
