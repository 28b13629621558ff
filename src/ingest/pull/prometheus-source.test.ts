/**
 * The Prometheus source against a real HTTP server on 127.0.0.1 serving exposition text: accounts
 * from a label or the target, counters as the increase per interval (primed, reset-aware, across
 * a restart), gauges as they are, OpenMetrics timestamps, suffix labels and duplicate series,
 * include patterns, rejects with line numbers, and failing targets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sourcesFileSchema } from '../../config/sources-schema.ts';
import type { SourceSpec } from '../../config/types.ts';
import { ManualClock } from '../../domain/clock.ts';
import type { Point } from '../../domain/types.ts';
import { createSqliteStateStore } from '../../store/sqlite/sqlite-state-store.ts';
import type { StateStore } from '../../store/state-store.ts';
import type { IngestService } from '../ingest-service.ts';
import { globToRegExp, sampleKind } from './prometheus-source.ts';
import { createSourceScheduler, type SourceScheduler } from './scheduler.ts';

const T0 = Date.UTC(2024, 2, 7, 12, 0, 0);
const S = 1000;

interface Reply {
  status?: number;
  type?: string;
  body: string;
}
/** what the server answers, by path */
const replies = new Map<string, Reply>();
/** request headers seen, by path */
const seenHeaders = new Map<string, http.IncomingHttpHeaders>();
let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    seenHeaders.set(path, req.headers);
    const r = replies.get(path);
    if (!r) {
      res.writeHead(404).end('no such exporter');
      return;
    }
    res.writeHead(r.status ?? 200, { 'content-type': r.type ?? 'text/plain; version=0.0.4; charset=utf-8' }).end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  replies.clear();
  seenHeaders.clear();
});

function promSource(extra: Record<string, unknown>): SourceSpec {
  return sourcesFileSchema.parse({ sources: [{ name: 'app', kind: 'prometheus', interval: '30s', ...extra }] }).sources[0]!;
}

interface Run {
  clock: ManualClock;
  got: Point[];
  scheduler: SourceScheduler;
  /** one scrape at the clock's now; returns the points of that scrape */
  scrape(): Promise<Array<[string, string, number, number]>>;
}

function run(
  spec: SourceSpec,
  state: StateStore = createSqliteStateStore({ path: ':memory:' }),
  env: Record<string, string> = {},
  clock = new ManualClock(T0),
): Run {
  const got: Point[] = [];
  const ingest: Pick<IngestService, 'ingest'> = {
    ingest: async (points) => {
      got.push(...points);
      return { accepted: points.length, rejected: [], newAccounts: [] };
    },
  };
  const scheduler = createSourceScheduler({ sources: [spec], ingest, state, clock, env, log: () => undefined });
  return {
    clock,
    got,
    scheduler,
    async scrape() {
      const before = got.length;
      const outcome = await scheduler.runNow('app');
      if (!outcome.ok) throw new Error(`test: scrape failed: ${outcome.error}`);
      return got.slice(before).map((p) => [p.account, p.metric, p.tsMs, p.value]);
    },
  };
}

const counters = (requests: number, errors: number, users: number) =>
  [
    '# HELP app_api_requests_total Requests.',
    '# TYPE app_api_requests_total counter',
    `app_api_requests_total{tenant="acme"} ${requests}`,
    `app_api_requests_total{tenant="globex"} ${requests * 2}`,
    '# TYPE app_api_errors_total counter',
    `app_api_errors_total{tenant="acme"} ${errors}`,
    '# TYPE app_active_users gauge',
    `app_active_users{tenant="acme"} ${users}`,
    `app_active_users ${users + 1}`,
  ].join('\n');

describe('prometheus source: a scrape of a real exporter', () => {
  it('first scrape primes counters and keeps gauges; then counters become the increase per interval (reset-aware)', async () => {
    replies.set('/metrics', { body: counters(100, 5, 40) });
    const r = run(promSource({ account_label: 'tenant', targets: [{ url: `${base}/metrics`, account: 'internal' }] }));
    // the account comes from the tenant label, else from the target
    expect(await r.scrape()).toEqual([
      ['acme', 'app_active_users', T0, 40],
      ['internal', 'app_active_users', T0, 41],
    ]);
    // 30 s later (one interval): the plain increase
    replies.set('/metrics', { body: counters(160, 5, 42) });
    r.clock.advance(30 * S);
    expect(await r.scrape()).toEqual([
      ['acme', 'app_api_requests_total', T0 + 30 * S, 60],
      ['globex', 'app_api_requests_total', T0 + 30 * S, 120],
      ['acme', 'app_api_errors_total', T0 + 30 * S, 0],
      ['acme', 'app_active_users', T0 + 30 * S, 42],
      ['internal', 'app_active_users', T0 + 30 * S, 43],
    ]);
    // 60 s later: +60 over two intervals is 30 per interval, so a missed scrape is not a spike
    replies.set('/metrics', { body: counters(220, 5, 42) });
    r.clock.advance(60 * S);
    expect((await r.scrape()).filter(([a, m]) => a === 'acme' && m === 'app_api_requests_total')).toEqual([
      ['acme', 'app_api_requests_total', T0 + 90 * S, 30],
    ]);
    // the exporter restarted: the counter starts again from 0
    replies.set('/metrics', { body: counters(12, 1, 42) });
    r.clock.advance(30 * S);
    const afterReset = await r.scrape();
    expect(afterReset.filter(([a, m]) => a === 'acme' && m.endsWith('_total'))).toEqual([
      ['acme', 'app_api_requests_total', T0 + 120 * S, 12],
      ['acme', 'app_api_errors_total', T0 + 120 * S, 1],
    ]);
    // the Accept header asks for OpenMetrics first
    expect(seenHeaders.get('/metrics')?.accept).toMatch(/^application\/openmetrics-text/);
    await r.scheduler.stop();
  });

  it('counters: raw keeps the cumulative value from the first scrape', async () => {
    replies.set('/metrics', { body: counters(100, 5, 40) });
    const r = run(
      promSource({ targets: [{ url: `${base}/metrics`, account: 'acme' }], include: ['app_api_errors_total'], counters: 'raw' }),
    );
    expect(await r.scrape()).toEqual([['acme', 'app_api_errors_total', T0, 5]]);
    await r.scheduler.stop();
  });

  it('counters continue across a restart (a new scheduler on the same state store)', async () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    const spec = promSource({ account_label: 'tenant', targets: [{ url: `${base}/metrics` }], include: ['app_api_requests_total'] });
    replies.set('/metrics', { body: counters(100, 0, 0) });
    const one = run(spec, state);
    await one.scrape();
    await one.scheduler.stop();
    replies.set('/metrics', { body: counters(130, 0, 0) });
    const two = run(spec, state, {}, new ManualClock(T0 + 30 * S));
    expect(await two.scrape()).toEqual([
      ['acme', 'app_api_requests_total', T0 + 30 * S, 30],
      ['globex', 'app_api_requests_total', T0 + 30 * S, 60],
    ]);
    await two.scheduler.stop();
  });

  it('OpenMetrics: sample timestamps in seconds are honoured, a timestamp that did not move is skipped, _created is ignored', async () => {
    const body = (v: number, ts: number) =>
      [
        '# TYPE jobs counter',
        `jobs_total{tenant="acme"} ${v} ${ts}`,
        `jobs_created{tenant="acme"} 1700000000`,
        '# TYPE depth gauge',
        `depth{tenant="acme"} 3 ${ts}`,
        '# EOF',
      ].join('\n');
    const type = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
    replies.set('/om', { type, body: body(10, 1709805600) });
    const r = run(promSource({ account_label: 'tenant', targets: [{ url: `${base}/om` }] }));
    expect(await r.scrape()).toEqual([['acme', 'depth', 1709805600000, 3]]);
    r.clock.advance(30 * S);
    expect(await r.scrape()).toEqual([]); // same timestamps: nothing new
    expect(r.scheduler.status()[0]?.skipped).toBe(2);
    replies.set('/om', { type, body: body(25, 1709805615) });
    r.clock.advance(30 * S);
    // the counter rose by 15 in 15 s: 30 per 30-second interval
    expect(await r.scrape()).toEqual([
      ['acme', 'jobs_total', 1709805615000, 30],
      ['acme', 'depth', 1709805615000, 3],
    ]);
    await r.scheduler.stop();
  });

  it('suffix labels split a family into metrics; samples landing on one series are rejected naming the label to add', async () => {
    replies.set('/metrics', {
      body: [
        'http_requests{tenant="acme",method="GET",code="200"} 5',
        'http_requests{tenant="acme",method="POST",code="200"} 6',
        'http_requests{tenant="acme",method="POST",code="500"} 7',
      ].join('\n'),
    });
    const r = run(promSource({ account_label: 'tenant', targets: [{ url: `${base}/metrics` }], suffix_labels: ['method'] }));
    expect(await r.scrape()).toEqual([
      ['acme', 'http_requests_GET', T0, 5],
      ['acme', 'http_requests_POST', T0, 6],
    ]);
    const status = r.scheduler.statusJson()[0]!;
    expect(status.recentRejects).toEqual([
      {
        at: new Date(T0).toISOString(),
        origin: `${base}/metrics line 3`,
        code: 'duplicate_series',
        reason: `http_requests{code="500",method="POST",tenant="acme"} maps to acme/http_requests_POST like ${base}/metrics line 2 (add one of code to suffix_labels, or leave the metric out of include)`,
      },
    ]);
    await r.scheduler.stop();
  });

  it('bad lines, NaN values and samples without an account are rejected with their line; the rest is ingested', async () => {
    replies.set('/metrics', {
      body: [
        'good{tenant="acme"} 1',
        'broken{tenant="acme" 2',
        'q{tenant="acme",quantile="0.5"} NaN',
        'orphan 4',
        'also_good{tenant="acme"} 5',
      ].join('\n'),
    });
    const r = run(
      promSource({
        account_label: 'tenant',
        targets: [
          { url: `${base}/metrics`, account: 'fallback' },
          { url: `${base}/metrics?second`, account: 'other' },
        ],
      }),
    );
    replies.set('/metrics?second', { body: 'x{tenant="acme"} 1\n' });
    await r.scrape();
    const status = r.scheduler.statusJson()[0]!;
    expect(status.recentRejects.map((x) => [x.origin, x.code])).toEqual([
      [`${base}/metrics line 2`, 'syntax'],
      [`${base}/metrics line 3`, 'non_finite'],
    ]);
    expect(r.got.map((p) => `${p.account}/${p.metric}`)).toEqual(['acme/good', 'fallback/orphan', 'acme/also_good', 'acme/x']);
    await r.scheduler.stop();
  });

  it('include keeps only matching metric names', async () => {
    replies.set('/metrics', { body: counters(1, 1, 1) });
    const r = run(promSource({ targets: [{ url: `${base}/metrics`, account: 'acme' }], include: ['app_active_*'] }));
    expect((await r.scrape()).map(([, m]) => m)).toEqual(['app_active_users']);
    // both samples land on acme/app_active_users (no account label configured): the second is a duplicate
    expect(r.scheduler.statusJson()[0]?.rejectsByReason).toEqual({ duplicate_series: 1 });
    await r.scheduler.stop();
  });
});

describe('prometheus source: failing targets', () => {
  it('one failing target is a warning while the other is ingested; every target failing is a failure with backoff', async () => {
    replies.set('/a', { body: 'up{tenant="acme"} 1\n' });
    replies.set('/b', { status: 500, body: 'exporter broke' });
    const r = run(
      promSource({
        account_label: 'tenant',
        targets: [{ url: `${base}/a` }, { url: `${base}/b` }],
        headers_env: { Authorization: 'SCRAPE_AUTH' },
      }),
      undefined,
      { SCRAPE_AUTH: 'Bearer s3cret' },
    );
    expect(await r.scrape()).toEqual([['acme', 'up', T0, 1]]);
    expect(r.scheduler.statusJson()[0]).toMatchObject({
      consecutiveFailures: 0,
      lastError: { message: `GET ${base}/b: HTTP 500 Internal Server Error: exporter broke` },
    });
    expect(seenHeaders.get('/a')?.authorization).toBe('Bearer s3cret');

    replies.delete('/a');
    const outcome = await r.scheduler.runNow('app');
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toBe(
      `every target failed: GET ${base}/a: HTTP 404 Not Found: no such exporter; GET ${base}/b: HTTP 500 Internal Server Error: exporter broke`,
    );
    expect(r.scheduler.status()[0]).toMatchObject({ state: 'backoff', consecutiveFailures: 1, nextRunAtMs: T0 + 2 * S });
    await r.scheduler.stop();
  });
});

describe('prometheus source: helpers', () => {
  it.each<[string, string, boolean]>([
    ['app_*', 'app_api_requests_total', true],
    ['app_*', 'xapp_y', false],
    ['*_total', 'a_total', true],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
  ])('glob %s matches %s: %s', (glob, name, want) => {
    expect(globToRegExp(glob).test(name)).toBe(want);
  });

  const types = new Map([
    ['c', 'counter'],
    ['c_total', 'counter'],
    ['h', 'histogram'],
    ['s', 'summary'],
    ['g', 'gauge'],
  ]);
  it.each<[string, string]>([
    ['c_total', 'cumulative'],
    ['c_created', 'created'],
    ['h_bucket', 'cumulative'],
    ['h_count', 'cumulative'],
    ['h_sum', 'cumulative'],
    ['h_created', 'created'],
    ['s', 'gauge'],
    ['s_count', 'cumulative'],
    ['g', 'gauge'],
    ['untyped_total', 'gauge'],
  ])('%s is %s', (name, kind) => {
    expect(sampleKind(name, types)).toBe(kind);
  });
});
