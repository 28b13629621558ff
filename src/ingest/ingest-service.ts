/**
 * The ingest service: takes parsed points from any source (line protocol, JSON, replay, pull),
 * applies the admission checks (timestamp not too far in the future, series limit per account,
 * unknown accounts in strict mode), registers first-seen accounts as unclassified, stores the
 * admitted points durably, then scores them and lets the advisor act. Rejections are values,
 * counted by reason; one bad point never takes the good points of its batch down with it.
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Clock } from '../domain/clock.ts';
import type { AccountRecord, Point } from '../domain/types.ts';
import type { Advisor } from '../advise/advisor.ts';
import { computeHealth } from '../detect/health.ts';
import type { Scorer } from '../detect/scorer.ts';
import type { OutputSink } from '../store/output-sink.ts';
import type { StateStore } from '../store/state-store.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { ACCOUNT_ID_RULE, isValidAccountId } from '../domain/account-id.ts';

const tracer = trace.getTracer('forewarn');

/** Why a point was not admitted. */
export type RejectCode =
  | 'syntax'
  | 'bad_value'
  | 'missing_metric'
  | 'missing_account'
  | 'non_finite'
  | 'bad_timestamp'
  | 'future_timestamp'
  | 'series_limit'
  | 'unknown_account'
  | 'invalid_account'
  | 'invalid';

export interface Rejection {
  /** 1-based line (line protocol) or item (JSON) number */
  line: number;
  code: RejectCode | string;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  rejected: Rejection[];
  newAccounts: string[];
}

export interface IngestServiceOptions {
  store: TimeSeriesStore;
  state: StateStore;
  scorer: Scorer;
  advisor: Advisor;
  clock: Clock;
  metrics?: Metrics;
  /** points more than this ahead of the wall clock are rejected (default 10 minutes) */
  maxFutureMs?: number;
  /** distinct metrics one account may have (default 1000) */
  maxSeriesPerAccount?: number;
  /** reject telemetry of accounts nobody registered instead of registering them as unclassified */
  strictAccounts?: boolean;
  /** receives an anomaly score per scored point and a health score per account per batch (default: none) */
  sink?: OutputSink;
  /** called with every stored and scored batch (e.g. data-gap tracking); must not throw */
  afterBatch?: (points: readonly Point[], arrivalWallMs: number) => void;
}

export interface IngestService {
  /**
   * Admits, stores, scores. `lines[i]` is the source line of `points[i]` (for error reports).
   * Resolves once admitted points are durably stored and scored.
   */
  ingest(points: readonly Point[], source: string, lines?: ArrayLike<number>): Promise<IngestResult>;
  /** registers an account id as known (e.g. after PUT /api/accounts/:id) */
  knowAccount(id: string): void;
}

/** Creates the ingest service; the per-account series sets start from what the store already holds. */
export async function createIngestService(options: IngestServiceOptions): Promise<IngestService> {
  const { store, state, scorer, advisor, clock, metrics } = options;
  const maxFutureMs = options.maxFutureMs ?? 10 * 60_000;
  const maxSeries = options.maxSeriesPerAccount ?? 1000;
  const strict = options.strictAccounts ?? false;
  // a disabled sink costs nothing: the scoring callback below does not even test for it
  const sink = options.sink?.enabled ? options.sink : undefined;
  // the tier label of health outputs, per account, re-read at most once a minute (and after knowAccount)
  const tierLabels = new Map<string, { name: string; untilMs: number }>();

  const knownAccounts = new Set(state.listAccounts().map((a) => a.id));
  const series = new Map<string, Set<string>>();
  for (const s of await store.listSeries()) {
    let set = series.get(s.account);
    if (!set) series.set(s.account, (set = new Set()));
    set.add(s.metric);
  }

  const placeholder = (id: string, nowMs: number): AccountRecord => ({
    id,
    name: id,
    attributes: { contractValueUsd: 0, monthlyUsage: 0, criticality: 'low', strategic: false, businessCritical: false },
    technicalContacts: [],
    businessContacts: [],
    unclassified: true,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  });

  // batches are admitted, stored and scored one after another so each series sees its points in order
  let tail: Promise<unknown> = Promise.resolve();

  return {
    knowAccount(id) {
      knownAccounts.add(id);
      tierLabels.delete(id);
    },
    ingest(points, source, lines) {
      const run = tail.then(() => ingestNow(points, source, lines));
      tail = run.catch(() => undefined);
      return run;
    },
  };

  /** the health of every account the batch touched, at its latest event time in the batch, then spools the outputs */
  function writeHealth(out: OutputSink, points: readonly Point[]): void {
    const latest = new Map<string, number>();
    for (const p of points) {
      const t = latest.get(p.account);
      if (t === undefined || p.tsMs > t) latest.set(p.account, p.tsMs);
    }
    const now = clock.nowMs();
    for (const [account, tsMs] of latest) {
      let tier = tierLabels.get(account);
      if (!tier || tier.untilMs < now) {
        const record = state.getAccount(account);
        tier = { name: record ? advisor.tierOf(record).name : '', untilMs: now + 60_000 };
        tierLabels.set(account, tier);
      }
      out.health({ account, tier: tier.name, score: computeHealth(scorer.health(account)).score, tsMs });
    }
    // the sink reports its own failures; outputs never fail an ingest
    void out.flush();
  }

  async function ingestNow(points: readonly Point[], source: string, lines?: ArrayLike<number>): Promise<IngestResult> {
    const span = tracer.startSpan('forewarn.ingest.batch', {
      attributes: { 'forewarn.source': source, 'forewarn.points': points.length },
    });
    try {
      const arrival = clock.nowMs();
      const rejected: Rejection[] = [];
      const newAccounts: string[] = [];
      const lineOf = (i: number) => (lines ? (lines[i] ?? i + 1) : i + 1);
      const horizon = arrival + maxFutureMs;
      let admitted: Point[] | undefined; // allocated only when something is rejected
      // series this batch introduced: if the store write fails they are taken back, so a batch
      // that stored nothing does not use up the account's series limit
      const added: Array<[Set<string>, string]> = [];
      // consecutive points usually share their account: the last account admitted and its series
      // set are remembered (accounts are never forgotten while this loop runs)
      let lastAccount: string | undefined;
      let set: Set<string> | undefined;
      for (let i = 0; i < points.length; i++) {
        const p = points[i]!;
        let code: RejectCode | undefined;
        let reason = '';
        if (p.tsMs > horizon) {
          code = 'future_timestamp';
          reason = `timestamp ${new Date(p.tsMs).toISOString()} is more than ${Math.round(maxFutureMs / 1000)}s ahead of the server clock`;
        } else if (p.account !== lastAccount) {
          if (!knownAccounts.has(p.account)) {
            if (!isValidAccountId(p.account)) {
              code = 'invalid_account';
              reason = `invalid account id "${p.account.slice(0, 140)}" (${ACCOUNT_ID_RULE})`;
            } else if (strict) {
              code = 'unknown_account';
              reason = `unknown account "${p.account}" (strict mode: register it with PUT /api/accounts/${p.account} first)`;
            } else {
              knownAccounts.add(p.account);
              newAccounts.push(p.account);
            }
          }
          if (code === undefined) {
            lastAccount = p.account;
            set = series.get(p.account);
            if (!set) series.set(p.account, (set = new Set()));
          }
        }
        if (code === undefined && set !== undefined) {
          if (!set.has(p.metric)) {
            if (set.size >= maxSeries) {
              code = 'series_limit';
              reason = `account "${p.account}" already has ${maxSeries} series; metric "${p.metric}" not accepted`;
            } else {
              set.add(p.metric);
              added.push([set, p.metric]);
            }
          }
        }
        if (code !== undefined) {
          if (!admitted) admitted = points.slice(0, i);
          rejected.push({ line: lineOf(i), code, reason });
          metrics?.pointsRejected.inc({ reason: code });
        } else if (admitted) admitted.push(p);
      }
      const ok = admitted ?? points;
      if (newAccounts.length > 0) {
        state.transaction(() => {
          for (const id of newAccounts) state.ensureAccount(placeholder(id, arrival));
        });
      }
      if (ok.length > 0) {
        try {
          await store.write(ok);
        } catch (err) {
          // nothing was stored: the batch must not use up series slots
          for (const [set, metric] of added) set.delete(metric);
          throw err;
        }
        metrics?.ingestPoints.inc({ source }, ok.length);
        const stats = sink
          ? scorer.score(ok, (sp) => {
              // forecast streams are not anomaly scores: they reach dashboards as signals
              if (sp.forecast === undefined) sink.anomaly(sp);
              if (sp.watch.ruled) advisor.onScored(sp, arrival);
            })
          : scorer.score(ok, (sp) => {
              if (sp.watch.ruled) advisor.onScored(sp, arrival);
            });
        if (sink) writeHealth(sink, ok);
        options.afterBatch?.(ok, arrival);
        metrics?.detectorPoints.inc(stats.scored);
        if (metrics) {
          // event-time lag: how far behind the wall clock the newest point just scored is
          let newestMs = -Infinity;
          for (const p of ok) if (p.tsMs > newestMs) newestMs = p.tsMs;
          metrics.detectorLag.set(Math.max(0, arrival - newestMs) / 1000);
        }
      }
      span.setAttribute('forewarn.accepted', ok.length);
      span.setAttribute('forewarn.rejected', rejected.length);
      return { accepted: ok.length, rejected, newAccounts };
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  }
}
