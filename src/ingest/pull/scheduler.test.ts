/**
 * The pull scheduler with scripted sources and a manual clock (no sleeps): the schedule, backoff
 * after failures and its reset, the cursor saved only once a page is stored, a restart resuming
 * from it, rejects reported with their origin and reason without stopping the source, the status
 * endpoint's JSON and the forewarn_source_* metrics.
 */
import { describe, expect, it } from 'vitest';
import type { SourceSpec } from '../../config/types.ts';
import { sourcesFileSchema } from '../../config/sources-schema.ts';
import { ManualClock } from '../../domain/clock.ts';
import type { Point } from '../../domain/types.ts';
import { createSqliteStateStore } from '../../store/sqlite/sqlite-state-store.ts';
import type { StateStore } from '../../store/state-store.ts';
import { createMetrics, type Metrics } from '../../telemetry/metrics.ts';
import type { IngestResult, IngestService } from '../ingest-service.ts';
import { createCursorStore, cursorKey } from './cursor-store.ts';
import { backoffDelayMs, createSourceScheduler, type SourceSchedulerOptions } from './scheduler.ts';
import type { PullPage, PullSource } from './source.ts';

const T0 = Date.UTC(2024, 2, 7, 12, 0, 0);
const S = 1000;

/** A source spec as sources.yaml would declare it (an http_json source; the kind does not matter here). */
function spec(extra: Record<string, unknown> = {}): SourceSpec {
  return sourcesFileSchema.parse({
    sources: [
      {
        name: 'feed',
        kind: 'http_json',
        url: 'http://127.0.0.1:1/u',
        interval: '1m',
        backoff: { initial: '2s', max: '10s' },
        map: { account: 'a', metric: 'm', value: 'v' },
        ...extra,
      },
    ],
  }).sources[0]!;
}

const point = (value: number, tsMs = T0 - 60_000): Point => ({ account: 'acme', metric: 'api_calls', tsMs, value });

function page(over: Partial<PullPage> = {}): PullPage {
  return { points: [], origins: [], rejects: [], skipped: 0, cursor: undefined, more: false, warnings: [], ...over };
}

/** A source that plays one script step per pull: pages to yield, or an error to throw. */
function scripted(s: SourceSpec, steps: Array<PullPage[] | Error>, seen: unknown[] = []) {
  let closed = false;
  const source: PullSource = {
    spec: s,
    async *pages(cursor) {
      seen.push(cursor);
      const step = steps.shift();
      if (step === undefined) return;
      if (step instanceof Error) throw step;
      for (const p of step) yield p;
    },
    async close() {
      closed = true;
    },
  };
  return { source, seen, isClosed: () => closed };
}

interface Harness {
  clock: ManualClock;
  state: StateStore;
  metrics: Metrics;
  ingested: Point[][];
  /** per ingest call, the 1-based lines to reject */
  rejectLines: number[][];
  options(sources: SourceSpec[], make: SourceSchedulerOptions['createSource']): SourceSchedulerOptions;
}

function harness(state: StateStore = createSqliteStateStore({ path: ':memory:' })): Harness {
  const clock = new ManualClock(T0);
  const metrics = createMetrics();
  const ingested: Point[][] = [];
  const rejectLines: number[][] = [];
  const ingest: Pick<IngestService, 'ingest'> = {
    async ingest(points, _source, lines): Promise<IngestResult> {
      const refuse = rejectLines.shift() ?? [];
      const lineOf = (i: number) => lines?.[i] ?? i + 1;
      ingested.push(points.filter((_, i) => !refuse.includes(lineOf(i))));
      return {
        accepted: points.length - refuse.length,
        rejected: refuse.map((line) => ({
          line,
          code: 'future_timestamp',
          reason: 'timestamp is more than 600s ahead of the server clock',
        })),
        newAccounts: [],
      };
    },
  };
  return {
    clock,
    state,
    metrics,
    ingested,
    rejectLines,
    options: (sources, make) => ({ sources, ingest, state, clock, metrics, ...(make ? { createSource: make } : {}), log: () => undefined }),
  };
}

async function metricValue(m: Metrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const all = await m.registry.getMetricsAsJSON();
  const found = all.find((x) => x.name === name);
  return found?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('backoffDelayMs', () => {
  it.each<[number, number]>([
    [1, 2 * S],
    [2, 4 * S],
    [3, 8 * S],
    [4, 10 * S],
    [50, 10 * S],
  ])('failure %i waits %i ms (initial 2s, doubling, max 10s)', (failures, want) => {
    expect(backoffDelayMs(spec(), failures)).toBe(want);
  });
});

describe('scheduler: schedule and backoff (manual clock)', () => {
  it('ok=>failing=>failing=>failing=>ok: retries after 2s, 4s, 8s, then back on the 1m interval', async () => {
    const h = harness();
    const s = spec();
    const src = scripted(s, [
      [page({ points: [point(1)] })],
      new Error('connection refused'),
      new Error('connection refused'),
      new Error('HTTP 503'),
      [page()],
      [page()],
    ]);
    const scheduler = createSourceScheduler(h.options([s], () => src.source));
    const pulls = () => src.seen.length;
    const at = async (offsetMs: number) => {
      h.clock.set(T0 + offsetMs);
      await scheduler.runDue();
    };

    await at(0);
    expect(pulls()).toBe(1);
    expect(scheduler.status()[0]).toMatchObject({ state: 'idle', nextRunAtMs: T0 + 60 * S, consecutiveFailures: 0 });
    await at(59 * S);
    expect(pulls()).toBe(1); // not due yet

    await at(60 * S); // fails
    expect(scheduler.status()[0]).toMatchObject({
      state: 'backoff',
      consecutiveFailures: 1,
      nextRunAtMs: T0 + 62 * S,
      lastError: { atMs: T0 + 60 * S, message: 'connection refused' },
    });
    await at(61 * S);
    expect(pulls()).toBe(2);
    await at(62 * S); // fails again: 4s
    expect(scheduler.status()[0]).toMatchObject({ consecutiveFailures: 2, nextRunAtMs: T0 + 66 * S });
    await at(66 * S); // third failure: 8s
    expect(scheduler.status()[0]).toMatchObject({ consecutiveFailures: 3, nextRunAtMs: T0 + 74 * S, lastError: { message: 'HTTP 503' } });
    expect(await metricValue(h.metrics, 'forewarn_source_consecutive_failures', { source: 'feed' })).toBe(3);

    await at(74 * S); // recovers
    expect(pulls()).toBe(5);
    expect(scheduler.status()[0]).toMatchObject({
      state: 'idle',
      consecutiveFailures: 0,
      lastSuccessAtMs: T0 + 74 * S,
      nextRunAtMs: T0 + 134 * S,
    });
    expect(await metricValue(h.metrics, 'forewarn_source_consecutive_failures', { source: 'feed' })).toBe(0);
    expect(await metricValue(h.metrics, 'forewarn_source_pulls_total', { source: 'feed', outcome: 'failure' })).toBe(3);
    expect(await metricValue(h.metrics, 'forewarn_source_pulls_total', { source: 'feed', outcome: 'success' })).toBe(2);
    expect(await metricValue(h.metrics, 'forewarn_source_last_success_timestamp_seconds', { source: 'feed' })).toBe((T0 + 74 * S) / 1000);
    await scheduler.stop();
  });

  it('a pull that leaves a backlog (more) is followed at once, then the interval resumes', async () => {
    const h = harness();
    const s = spec();
    const src = scripted(s, [[page({ cursor: 1, more: true })], [page({ cursor: 2 })]]);
    const scheduler = createSourceScheduler(h.options([s], () => src.source));
    await scheduler.runDue();
    expect(scheduler.status()[0]?.nextRunAtMs).toBe(T0);
    await scheduler.runDue();
    expect(src.seen).toEqual([undefined, 1]);
    expect(scheduler.status()[0]?.nextRunAtMs).toBe(T0 + 60 * S);
    await scheduler.stop();
  });
});

describe('scheduler: cursors', () => {
  it('saves the cursor only after a page is stored: a failed write re-reads that page on the next pull', async () => {
    const h = harness();
    const s = spec();
    const src = scripted(s, [
      [
        page({ points: [point(1)], origins: ['items[0]'], cursor: 'c1' }),
        page({ points: [point(2)], origins: ['items[0]'], cursor: 'c2' }),
      ],
      [page({ points: [point(2)], origins: ['items[0]'], cursor: 'c2' })],
    ]);
    // the first page is stored, the write of the second page fails
    const base = h.options([s], () => src.source);
    let calls = 0;
    const flaky = createSourceScheduler({
      ...base,
      ingest: {
        ingest: async (points, source, lines) => {
          calls += 1;
          if (calls === 2) throw new Error('store is down');
          return base.ingest.ingest(points, source, lines);
        },
      },
    });
    const first = await flaky.runNow('feed');
    expect(first).toMatchObject({ ok: false, accepted: 1, error: 'store is down' });
    expect(createCursorStore(h.state).load('feed', 'http_json')?.cursor).toBe('c1');
    h.clock.advance(2 * S);
    await flaky.runDue();
    expect(src.seen).toEqual([undefined, 'c1']); // resumed after page 1, so page 2 is read again
    expect(h.ingested.map((b) => b.map((p) => p.value))).toEqual([[1], [2]]);
    expect(createCursorStore(h.state).load('feed', 'http_json')?.cursor).toBe('c2');
    await flaky.stop();
  });

  it('restart: a new scheduler on the same state store resumes from the saved cursor, with its last success and lag', async () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    const s = spec();
    const h1 = harness(state);
    const src1 = scripted(s, [[page({ points: [point(1, T0 - 90 * S)], origins: ['items[0]'], cursor: { t: 42 } })]]);
    const one = createSourceScheduler(h1.options([s], () => src1.source));
    await one.runNow('feed');
    await one.stop();

    const h2 = harness(state);
    h2.clock.set(T0 + 30 * S);
    const src2 = scripted(s, [[page()]]);
    const two = createSourceScheduler(h2.options([s], () => src2.source));
    // before its first pull, the status already knows the last success and the newest event time
    expect(two.statusJson()[0]).toMatchObject({ lastSuccessAt: new Date(T0).toISOString(), lagSeconds: 120, pointsPulled: 0 });
    await two.runDue();
    expect(src2.seen).toEqual([{ t: 42 }]);
    await two.stop();
  });

  it('a saved cursor of another kind is ignored (the source was redeclared)', () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    const cursors = createCursorStore(state);
    cursors.save('feed', { kind: 'sql', cursor: { v: 'x' } });
    expect(cursors.load('feed', 'sql')?.cursor).toEqual({ v: 'x' });
    expect(cursors.load('feed', 'http_json')).toBeUndefined();
    expect(state.loadCheckpoint(cursorKey('feed'))).toBeDefined();
    expect(cursorKey('feed')).toBe('src\u0000feed');
  });
});

describe('scheduler: rejects and status', () => {
  it('reports mapping and admission rejects with origin and reason, keeps the good points, and goes on', async () => {
    const h = harness();
    const s = spec();
    const src = scripted(s, [
      [
        page({
          points: [point(1), point(2), point(3)],
          origins: ['items[0]', 'items[2]', 'items[3]'],
          rejects: [{ origin: 'items[1]', code: 'bad_value', reason: 'value field "v" of m is not a number ("x")' }],
          skipped: 4,
          cursor: 'c',
        }),
      ],
      [page({ points: [point(4)], origins: ['items[0]'], cursor: 'd' })],
    ]);
    h.rejectLines.push([2]); // ingest refuses the second point (items[2])
    const scheduler = createSourceScheduler(h.options([s], () => src.source));
    const outcome = await scheduler.runNow('feed');
    expect(outcome).toEqual({ ok: true, accepted: 2, rejected: 2 });
    const json = scheduler.statusJson()[0]!;
    expect(json).toMatchObject({
      pointsPulled: 2,
      rowsRejected: 2,
      skipped: 4,
      rejectsByReason: { bad_value: 1, future_timestamp: 1 },
      lastError: null,
    });
    expect(json.recentRejects.map((r) => [r.origin, r.code])).toEqual([
      ['items[1]', 'bad_value'],
      ['items[2]', 'future_timestamp'],
    ]);
    expect(await metricValue(h.metrics, 'forewarn_source_rows_rejected_total', { source: 'feed', reason: 'bad_value' })).toBe(1);
    expect(await metricValue(h.metrics, 'forewarn_source_rows_rejected_total', { source: 'feed', reason: 'future_timestamp' })).toBe(1);
    expect(await metricValue(h.metrics, 'forewarn_points_rejected_total', { reason: 'bad_value' })).toBe(1);
    expect(await metricValue(h.metrics, 'forewarn_source_points_total', { source: 'feed' })).toBe(2);
    // the source is not stopped by bad rows
    h.clock.advance(60 * S);
    await scheduler.runDue();
    expect(scheduler.statusJson()[0]).toMatchObject({ pointsPulled: 3, consecutiveFailures: 0 });
    await scheduler.stop();
  });

  it('status JSON: ISO times, interval and lag in seconds; a warning shows as the last error without a failure', async () => {
    const h = harness();
    const s = spec();
    const src = scripted(s, [[page({ points: [point(1, T0 - 300 * S)], origins: ['x'], warnings: ['GET http://b/metrics: HTTP 500'] })]]);
    const scheduler = createSourceScheduler(h.options([s], () => src.source));
    await scheduler.runDue();
    h.clock.advance(10 * S);
    expect(scheduler.statusJson()[0]).toEqual({
      name: 'feed',
      kind: 'http_json',
      enabled: true,
      state: 'idle',
      intervalSeconds: 60,
      lastRunAt: new Date(T0).toISOString(),
      lastSuccessAt: new Date(T0).toISOString(),
      lastError: { at: new Date(T0).toISOString(), message: 'GET http://b/metrics: HTTP 500' },
      consecutiveFailures: 0,
      nextRunAt: new Date(T0 + 60 * S).toISOString(),
      newestEventAt: new Date(T0 - 300 * S).toISOString(),
      lagSeconds: 310,
      pointsPulled: 1,
      rowsRejected: 0,
      rejectsByReason: {},
      skipped: 0,
      recentRejects: [],
    });
    expect(await metricValue(h.metrics, 'forewarn_source_lag_seconds', { source: 'feed' })).toBe(310);
    await scheduler.stop();
  });
});

describe('scheduler: enabled flag, settings from the environment, stop', () => {
  it('a disabled source is listed but never built nor pulled', async () => {
    const h = harness();
    let built = 0;
    const scheduler = createSourceScheduler(
      h.options([spec({ enabled: false })], (s) => {
        built += 1;
        return scripted(s, []).source;
      }),
    );
    await scheduler.runDue();
    expect(built).toBe(0);
    expect(scheduler.statusJson()[0]).toMatchObject({ name: 'feed', enabled: false, state: 'disabled', nextRunAt: null });
    await expect(scheduler.runNow('feed')).rejects.toThrow('source "feed" is disabled (enabled: false in sources.yaml)');
    await scheduler.stop();
  });

  it('fails at creation naming the source and the unset environment variable', () => {
    const h = harness();
    const sql = sourcesFileSchema.parse({
      sources: [
        { name: 'db', kind: 'sql', url_env: 'FOREWARN_TEST_UNSET_DB_URL', table: 't', map: { account: 'a', metric: 'm', value: 'v' } },
      ],
    }).sources;
    const options = { ...h.options(sql, undefined), env: {} };
    expect(() => createSourceScheduler(options)).toThrow(
      'source "db": environment variable FOREWARN_TEST_UNSET_DB_URL (url_env) is not set',
    );
  });

  it('stop waits for the running pull, closes the sources, and nothing runs afterwards', async () => {
    const h = harness();
    const s = spec();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let pulls = 0;
    let closed = false;
    let stored = false;
    const source: PullSource = {
      spec: s,
      async *pages() {
        pulls += 1;
        await gate;
        yield page({ points: [point(1)], origins: ['x'], cursor: 'after' });
        yield page({ points: [point(2)], origins: ['x'], cursor: 'never' });
      },
      async close() {
        closed = true;
      },
    };
    const scheduler = createSourceScheduler(h.options([s], () => source));
    const running = scheduler.runDue();
    const stopping = scheduler.stop().then(() => {
      stored = h.ingested.length === 1;
    });
    release();
    await Promise.all([running, stopping]);
    // the page in flight was stored and its cursor saved; the next page was not asked for
    expect(stored).toBe(true);
    expect(createCursorStore(h.state).load('feed', 'http_json')?.cursor).toBe('after');
    expect(closed).toBe(true);
    h.clock.advance(3600 * S);
    await scheduler.runDue();
    expect(pulls).toBe(1);
  });
});
