/**
 * The HTTP JSON source against a real loopback HTTP server: items at a dotted path mapped to
 * points, the cursor sent as a query parameter and items at or before it never ingested twice
 * (also across a restart), bad items rejected with their index, HTTP and JSON failures with
 * backoff. Then the whole wiring: a source in the rules bundle of `createForewarn`, its points
 * through the real ingest service into the store, `GET /api/sources` and `/metrics`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createForewarn } from '../../app.ts';
import { loadServerConfig } from '../../config/server-config.ts';
import { sourcesFileSchema } from '../../config/sources-schema.ts';
import type { SourceSpec } from '../../config/types.ts';
import { ManualClock } from '../../domain/clock.ts';
import type { Point } from '../../domain/types.ts';
import { createMemoryNotifier } from '../../notify/memory.ts';
import { createMemoryStore } from '../../store/memory/memory-store.ts';
import { createSqliteStateStore } from '../../store/sqlite/sqlite-state-store.ts';
import type { StateStore } from '../../store/state-store.ts';
import { defaultBundle } from '../../../test/fixtures/bundle.ts';
import type { IngestService } from '../ingest-service.ts';
import { formatCursor } from './http-json-source.ts';
import { createSourceScheduler } from './scheduler.ts';

const T0 = Date.UTC(2024, 2, 7, 12, 0, 0);
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Record_ {
  customer: { id: string };
  period_end: string;
  usage: Record<string, unknown>;
}
/** every record the fake usage API knows; it answers those with period_end >= ?since */
let records: Record_[] = [];
let failWith: { status: number; body: string } | undefined;
const requests: URL[] = [];
let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url);
    if (failWith) {
      res.writeHead(failWith.status, { 'content-type': 'application/json' }).end(failWith.body);
      return;
    }
    const since = url.searchParams.get('since');
    // inclusive, as many APIs are: the records at the cursor come back and must be skipped
    const data = since === null ? records : records.filter((r) => Date.parse(r.period_end) >= Date.parse(since));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { records: data }, next: null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  records = [];
  failWith = undefined;
  requests.length = 0;
});

const rec = (account: string, atMs: number, calls: unknown, gb?: unknown): Record_ => ({
  customer: { id: account },
  period_end: iso(atMs),
  usage: { api_calls: calls, ...(gb === undefined ? {} : { storage_gb: gb }) },
});

function jsonSource(extra: Record<string, unknown> = {}): SourceSpec {
  return sourcesFileSchema.parse({
    sources: [
      {
        name: 'billing',
        kind: 'http_json',
        url: `${base}/api/usage?tenant=all`,
        interval: '5m',
        items: 'data.records',
        cursor_param: 'since',
        map: { account: 'customer.id', time: 'period_end', values: { api_calls: 'usage.api_calls', storage_gb: 'usage.storage_gb' } },
        ...extra,
      },
    ],
  }).sources[0]!;
}

function run(spec: SourceSpec, state: StateStore = createSqliteStateStore({ path: ':memory:' })) {
  const got: Point[] = [];
  const clock = new ManualClock(T0);
  const ingest: Pick<IngestService, 'ingest'> = {
    ingest: async (points) => {
      got.push(...points);
      return { accepted: points.length, rejected: [], newAccounts: [] };
    },
  };
  const scheduler = createSourceScheduler({ sources: [spec], ingest, state, clock, log: () => undefined });
  const pull = async () => {
    const before = got.length;
    const o = await scheduler.runNow('billing');
    if (!o.ok) throw new Error(`test: pull failed: ${o.error}`);
    return got.slice(before).map((p) => `${p.account} ${p.metric} ${iso(p.tsMs)} ${p.value}`);
  };
  return { got, clock, scheduler, pull };
}

describe('http json source: polling with a cursor', () => {
  it('sends the newest event time as ?since and ingests each item once, also across a restart', async () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    records = [rec('acme', T0 - 10 * MIN, 100, 1.5), rec('globex', T0 - 10 * MIN, '7')];
    const one = run(jsonSource(), state);
    expect(await one.pull()).toEqual([
      `acme api_calls ${iso(T0 - 10 * MIN)} 100`,
      `acme storage_gb ${iso(T0 - 10 * MIN)} 1.5`,
      `globex api_calls ${iso(T0 - 10 * MIN)} 7`,
    ]);
    expect(requests[0]?.search).toBe('?tenant=all'); // no cursor yet

    // a record arrives late at the cursor's own time, and one later: only those two are new
    records.push(rec('initech', T0 - 10 * MIN, 3), rec('acme', T0 - 5 * MIN, 120, 1.5));
    expect(await one.pull()).toEqual([
      `initech api_calls ${iso(T0 - 10 * MIN)} 3`,
      `acme api_calls ${iso(T0 - 5 * MIN)} 120`,
      `acme storage_gb ${iso(T0 - 5 * MIN)} 1.5`,
    ]);
    expect(requests[1]?.searchParams.get('since')).toBe(iso(T0 - 10 * MIN));
    expect(requests[1]?.searchParams.get('tenant')).toBe('all');
    expect(one.scheduler.status()[0]?.skipped).toBe(3); // the three points at the old cursor came back
    await one.scheduler.stop();

    // restart on the same state: the cursor survives
    const two = run(jsonSource(), state);
    expect(await two.pull()).toEqual([]);
    expect(requests[2]?.searchParams.get('since')).toBe(iso(T0 - 5 * MIN));
    await two.scheduler.stop();
  });

  it('rejects bad items with their index and reason, ingests the good ones, and goes on', async () => {
    records = [
      rec('acme', T0 - MIN, 1),
      rec('', T0 - MIN, 2),
      rec('acme', T0 - MIN, 'lots'),
      { ...rec('globex', T0 - MIN, 4), period_end: '2024-03-07 11:59' },
    ];
    const r = run(jsonSource());
    expect(await r.pull()).toEqual([`acme api_calls ${iso(T0 - MIN)} 1`]);
    const status = r.scheduler.statusJson()[0]!;
    expect(status.recentRejects.map((x) => [x.origin, x.code, x.reason])).toEqual([
      ['data.records[1]', 'missing_account', 'account field "customer.id" is not a non-empty string ("")'],
      ['data.records[2]', 'bad_value', 'value field "usage.api_calls" of api_calls is not a number ("lots")'],
      ['data.records[3]', 'bad_timestamp', 'time "2024-03-07 11:59" has no time zone (add Z or an offset such as +01:00)'],
    ]);
    expect(status.consecutiveFailures).toBe(0);
    await r.scheduler.stop();
  });

  it.each<[string, () => void, RegExp]>([
    [
      'an HTTP error',
      () => (failWith = { status: 503, body: '{"error":"maintenance"}' }),
      /^GET http:\/\/127\.0\.0\.1:\d+\/api\/usage\?tenant=all: HTTP 503 Service Unavailable: \{"error":"maintenance"\}$/,
    ],
    ['a body that is not json', () => (failWith = { status: 200, body: '<html>' }), /body is not valid json/],
    [
      'an items path that is not an array',
      () => (failWith = { status: 200, body: '{"data":{"records":{}}}' }),
      /items path "data.records" is not an array \(got an object\)/,
    ],
  ])('%s is a failure with backoff, and the source recovers', async (_name, breakIt, message) => {
    records = [rec('acme', T0 - MIN, 1)];
    breakIt();
    const r = run(jsonSource());
    const o = await r.scheduler.runNow('billing');
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(message);
    expect(r.scheduler.status()[0]).toMatchObject({ state: 'backoff', consecutiveFailures: 1 });
    failWith = undefined;
    expect(await r.pull()).toHaveLength(1);
    expect(r.scheduler.status()[0]).toMatchObject({ state: 'idle', consecutiveFailures: 0 });
    await r.scheduler.stop();
  });

  it.each<['iso' | 'ms' | 's', string]>([
    ['iso', '2024-03-07T12:00:00.250Z'],
    ['ms', String(T0 + 250)],
    ['s', String(T0 / 1000)],
  ])('cursor format %s', (format, want) => {
    expect(formatCursor(T0 + 250, format)).toBe(want);
  });
});

describe('pull sources wired into the app', () => {
  it('points go through the ingest service into the store; GET /api/sources and /metrics show the source', async () => {
    records = [rec('acme', T0 - 10 * MIN, 100, 2), rec('bad', T0 + 60 * MIN, 5)];
    const clock = new ManualClock(T0);
    const rules = { ...defaultBundle(), sources: [jsonSource()] };
    const fw = await createForewarn({
      config: loadServerConfig({}),
      rules,
      clock,
      state: createSqliteStateStore({ path: ':memory:' }),
      store: createMemoryStore(),
      notifier: createMemoryNotifier(),
    });
    try {
      const outcome = await fw.sources.runNow('billing');
      expect(outcome).toMatchObject({ ok: true, accepted: 2, rejected: 1 });
      const stored = await fw.store.query({ account: 'acme', metric: 'api_calls' }, 0, Number.MAX_SAFE_INTEGER);
      expect(Array.from(stored.values)).toEqual([100]);
      expect(fw.state.getAccount('acme')?.unclassified).toBe(true); // first seen: registered like pushed telemetry

      const res = await fw.app.request('/api/sources');
      expect(res.status).toBe(200);
      const body = (await res.json()) as Array<Record<string, unknown>>;
      expect(body).toHaveLength(1);
      expect(body[0]).toMatchObject({
        name: 'billing',
        kind: 'http_json',
        state: 'idle',
        lastSuccessAt: iso(T0),
        lagSeconds: 600,
        pointsPulled: 2,
        rowsRejected: 1,
        rejectsByReason: { future_timestamp: 1 },
      });
      // the admission reject names the item it came from
      expect((body[0]?.recentRejects as Array<{ origin: string }>)[0]?.origin).toBe('data.records[1]');

      const metrics = await (await fw.app.request('/metrics')).text();
      expect(metrics).toContain('forewarn_source_points_total{source="billing"} 2');
      expect(metrics).toContain('forewarn_source_rows_rejected_total{source="billing",reason="future_timestamp"} 1');
      expect(metrics).toContain('forewarn_source_lag_seconds{source="billing"} 600');
      expect(metrics).toContain('forewarn_ingest_points_total{source="pull:billing"} 2');
    } finally {
      await fw.close();
    }
    // close stopped the scheduler
    await expect(fw.sources.runNow('billing')).rejects.toThrow('the scheduler is stopped');
  });
});
