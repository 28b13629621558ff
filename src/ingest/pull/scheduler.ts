/**
 * The pull scheduler: runs each enabled source of rules/sources.yaml on its interval, feeds every
 * page through the ingest service, persists the source's cursor after each stored page, and backs
 * off after failures (initial delay doubling per failure up to the maximum). Time comes from the
 * injected clock: `runDue()` runs whatever is due now, and the timer of `start()` only calls it,
 * so tests drive the schedule without sleeping.
 *
 * Delivery: a page's cursor is saved only after ingest resolved (points durably stored), so a
 * failure or a stop never skips data; a crash between the two re-pulls that one page, whose
 * points overwrite themselves in the store (same series and timestamp).
 */
import type { SourceSpec } from '../../config/types.ts';
import type { Clock } from '../../domain/clock.ts';
import type { IngestService } from '../ingest-service.ts';
import type { StateStore } from '../../store/state-store.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { createCursorStore, type CursorRecord } from './cursor-store.ts';
import { createHttpJsonSource } from './http-json-source.ts';
import { createPrometheusSource } from './prometheus-source.ts';
import { errorText, type PullContext, type PullReject, type PullSource } from './source.ts';
import { createSqlSource } from './sql-source.ts';
import { createStatusTracker, statusJson, type SourceStatus, type SourceStatusJson, type StatusTracker } from './status.ts';

/** Options of `createSourceScheduler`. */
export interface SourceSchedulerOptions {
  sources: readonly SourceSpec[];
  ingest: Pick<IngestService, 'ingest'>;
  state: Pick<StateStore, 'saveCheckpoint' | 'loadCheckpoint'>;
  clock: Clock;
  metrics?: Metrics;
  /** environment for `url_env` / `headers_env` (default process.env), read once here */
  env?: Readonly<Record<string, string | undefined>>;
  /** builds the source of a spec; default: the real sql, prometheus and http_json sources */
  createSource?: (spec: SourceSpec, ctx: PullContext) => PullSource;
  /** how often the timer of `start()` looks for due sources (default 1000 ms) */
  tickMs?: number;
  /** where failures are logged (default console.error); each failure once per change of message */
  log?: (message: string) => void;
}

/** The outcome of one pull. */
export interface PullOutcome {
  ok: boolean;
  /** points accepted by ingest during this pull */
  accepted: number;
  rejected: number;
  error?: string;
}

/** Runs the pull sources. */
export interface SourceScheduler {
  /** starts the timer (the first pull of every enabled source is due at once) */
  start(): void;
  /** runs every enabled, idle source whose next run is due at the clock's now; resolves when they end */
  runDue(): Promise<void>;
  /** runs one source now, whatever its schedule (waits for a pull already in flight first) */
  runNow(name: string): Promise<PullOutcome>;
  status(): SourceStatus[];
  /** `GET /api/sources`; also refreshes the lag gauges */
  statusJson(): SourceStatusJson[];
  /** stops the timer, asks running pulls to stop after their current page, waits, closes the sources */
  stop(): Promise<void>;
}

/** The delay before retry number `failures` (1 = the first retry). */
export function backoffDelayMs(spec: Pick<SourceSpec, 'backoff'>, failures: number): number {
  const { initialMs, maxMs } = spec.backoff;
  return Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** The default source factory: one implementation per kind. */
export function createPullSource(spec: SourceSpec, ctx: PullContext): PullSource {
  switch (spec.kind) {
    case 'sql':
      return createSqlSource({ spec, ctx });
    case 'prometheus':
      return createPrometheusSource({ spec, ctx });
    case 'http_json':
      return createHttpJsonSource({ spec, ctx });
  }
}

interface Entry {
  spec: SourceSpec;
  source?: PullSource;
  tracker: StatusTracker;
  record: CursorRecord | undefined;
  nextRunAtMs: number;
  running: Promise<PullOutcome> | undefined;
  lastLogged: string | undefined;
}

/**
 * Creates the scheduler and the sources of every enabled spec. Throws when a source cannot be
 * built (e.g. its `url_env` variable is not set), naming the source and the setting.
 */
export function createSourceScheduler(options: SourceSchedulerOptions): SourceScheduler {
  const { ingest, clock, metrics } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => console.error(m));
  const make = options.createSource ?? createPullSource;
  const cursors = createCursorStore(options.state);
  const ctx: PullContext = { clock, env };
  const abort = new AbortController();
  const now = clock.nowMs();

  const entries: Entry[] = [];
  try {
    for (const spec of options.sources) {
      const record = cursors.load(spec.name, spec.kind);
      const tracker = createStatusTracker(
        {
          name: spec.name,
          kind: spec.kind,
          enabled: spec.enabled,
          intervalMs: spec.intervalMs,
          ...(record?.lastSuccessMs !== undefined ? { lastSuccessAtMs: record.lastSuccessMs } : {}),
          ...(record?.newestEventMs !== undefined ? { newestEventMs: record.newestEventMs } : {}),
        },
        metrics,
      );
      const entry: Entry = { spec, tracker, record, nextRunAtMs: now, running: undefined, lastLogged: undefined };
      if (spec.enabled) {
        entry.source = make(spec, ctx);
        tracker.status.nextRunAtMs = now;
      }
      entries.push(entry);
    }
  } catch (err) {
    for (const e of entries) void e.source?.close().catch(() => undefined);
    throw err;
  }
  const byName = new Map(entries.map((e) => [e.spec.name, e]));

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function pull(entry: Entry): Promise<PullOutcome> {
    const { spec, tracker } = entry;
    const source = entry.source!;
    const startedAt = clock.nowMs();
    const t0 = performance.now();
    tracker.started(startedAt);
    let accepted = 0;
    let rejected = 0;
    let more = false;
    try {
      for await (const page of source.pages(entry.record?.cursor, abort.signal)) {
        const nowMs = clock.nowMs();
        const rejects: PullReject[] = [...page.rejects];
        for (const r of page.rejects) metrics?.pointsRejected.inc({ reason: r.code });
        let newest: number | undefined;
        if (page.points.length > 0) {
          const lines = Array.from(page.points, (_, i) => i + 1);
          const result = await ingest.ingest(page.points, `pull:${spec.name}`, lines);
          accepted += result.accepted;
          const refused = new Set<number>();
          for (const r of result.rejected) {
            refused.add(r.line - 1);
            rejects.push({ origin: page.origins[r.line - 1] ?? `point ${r.line}`, code: String(r.code), reason: r.reason });
          }
          page.points.forEach((p, i) => {
            if (!refused.has(i) && (newest === undefined || p.tsMs > newest)) newest = p.tsMs;
          });
          tracker.page(nowMs, result.accepted, rejects, page.skipped, newest);
        } else {
          tracker.page(nowMs, 0, rejects, page.skipped, undefined);
        }
        rejected += rejects.length;
        for (const w of page.warnings) tracker.warn(nowMs, w);
        // the points are stored: only now may the cursor move past them
        const record: CursorRecord = { kind: spec.kind, cursor: page.cursor, lastSuccessMs: nowMs };
        const newestEventMs = tracker.status.newestEventMs;
        if (newestEventMs !== undefined) record.newestEventMs = newestEventMs;
        cursors.save(spec.name, record);
        entry.record = record;
        more = page.more;
        if (abort.signal.aborted) break;
      }
      const endAt = clock.nowMs();
      // fixed rate (regular samples for scrapes), but never in the past; at once when a backlog is waiting
      entry.nextRunAtMs = more ? endAt : Math.max(endAt, startedAt + spec.intervalMs);
      tracker.succeeded(endAt, entry.nextRunAtMs, performance.now() - t0);
      entry.lastLogged = undefined;
      return { ok: true, accepted, rejected };
    } catch (err) {
      const endAt = clock.nowMs();
      const message = errorText(err);
      const failures = tracker.status.consecutiveFailures + 1;
      entry.nextRunAtMs = endAt + backoffDelayMs(spec, failures);
      tracker.failed(endAt, message, entry.nextRunAtMs, performance.now() - t0);
      if (entry.lastLogged !== message) {
        log(
          `forewarn: source "${spec.name}" failed (attempt ${failures}, next in ${Math.round((entry.nextRunAtMs - endAt) / 1000)}s): ${message}`,
        );
        entry.lastLogged = message;
      }
      return { ok: false, accepted, rejected, error: message };
    }
  }

  function launch(entry: Entry): Promise<PullOutcome> {
    const run = pull(entry).finally(() => {
      entry.running = undefined;
    });
    entry.running = run;
    return run;
  }

  const scheduler: SourceScheduler = {
    start() {
      if (stopped || timer) return;
      const tick = () => {
        scheduler.runDue().catch((err: unknown) => log(`forewarn: pull scheduler: ${errorText(err)}`));
      };
      timer = setInterval(tick, options.tickMs ?? 1000);
      timer.unref();
      tick();
    },
    async runDue() {
      if (stopped) return;
      const nowMs = clock.nowMs();
      const runs: Array<Promise<PullOutcome>> = [];
      for (const e of entries) {
        if (!e.source || e.running || e.nextRunAtMs > nowMs) continue;
        runs.push(launch(e));
      }
      await Promise.all(runs);
    },
    async runNow(name) {
      const e = byName.get(name);
      if (!e) throw new Error(`no source named "${name}"`);
      if (!e.source) throw new Error(`source "${name}" is disabled (enabled: false in sources.yaml)`);
      if (stopped) throw new Error(`source "${name}": the scheduler is stopped`);
      if (e.running) await e.running;
      return launch(e);
    },
    status() {
      return entries.map((e) => e.tracker.status);
    },
    statusJson() {
      const nowMs = clock.nowMs();
      return entries.map((e) => {
        e.tracker.refresh(nowMs);
        return statusJson(e.tracker.status, nowMs);
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      abort.abort(new Error('forewarn is shutting down'));
      await Promise.allSettled(entries.flatMap((e) => (e.running ? [e.running] : [])));
      await Promise.allSettled(entries.flatMap((e) => (e.source ? [e.source.close()] : [])));
    },
  };
  return scheduler;
}
