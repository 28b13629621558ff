/**
 * The SQL source against the real PostgreSQL (127.0.0.1:5432, database `test`): incremental pulls
 * in table mode (generated keyset query), in query mode with a keyset `$1, $2, $3` and in query
 * mode with an inclusive `>= $1`, across a restart (a new scheduler on the same state file), with
 * rows sharing an updated_at - down to the microsecond - at every page boundary: every row is
 * ingested exactly once. Also: bad rows are rejected with their key and never stop the source,
 * a page full of rows sharing one value is reported, `settle` holds back young rows, and a
 * server that is down is a failure with backoff.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcesFileSchema } from '../../config/sources-schema.ts';
import type { SqlSourceSpec } from '../../config/types.ts';
import { ManualClock } from '../../domain/clock.ts';
import type { Point } from '../../domain/types.ts';
import { createSqliteStateStore } from '../../store/sqlite/sqlite-state-store.ts';
import type { StateStore } from '../../store/state-store.ts';
import { connectTestPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import type { IngestService } from '../ingest-service.ts';
import { createSourceScheduler, type SourceScheduler } from './scheduler.ts';
import { pageQuery } from './sql-source.ts';

const T0 = Date.UTC(2024, 2, 7, 12, 0, 0);
let db: TestPostgres;
const dirs: string[] = [];

beforeAll(async () => {
  db = await connectTestPostgres();
});
afterAll(async () => {
  await db?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Parses a source entry as sources.yaml would hold it. */
function sqlSource(entry: Record<string, unknown>): SqlSourceSpec {
  const spec = sourcesFileSchema.parse({ sources: [{ name: 'usage', kind: 'sql', url: db.url, ...entry }] }).sources[0];
  if (spec?.kind !== 'sql') throw new Error('test: not a sql source');
  return spec;
}

async function createUsageTable(): Promise<string> {
  const table = db.uniqueName('fw_pull_usage');
  await db.client.query(
    `CREATE TABLE "${table}" (id bigint PRIMARY KEY, account_id text, metric text, value double precision,
       recorded_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)`,
  );
  return table;
}

/** Inserts rows `[id, updated_at]`; the value is the id, the event time id minutes after 10:00. */
async function insert(table: string, rows: Array<[number, string]>): Promise<void> {
  for (const [id, updatedAt] of rows) {
    await db.client.query(
      `INSERT INTO "${table}" (id, account_id, metric, value, recorded_at, updated_at)
       VALUES ($1::int, 'acme', 'api_calls', $1::int, timestamptz '2024-03-07 10:00:00+00' + make_interval(mins => $1::int), $2)`,
      [id, updatedAt],
    );
  }
}

interface Run {
  scheduler: SourceScheduler;
  state: StateStore;
  close(): Promise<void>;
}

/** A scheduler over `stateFile` that records every point ingested in `got`. */
function start(spec: SqlSourceSpec, stateFile: string, got: Point[], clock = new ManualClock(T0)): Run {
  const state = createSqliteStateStore({ path: stateFile });
  const ingest: Pick<IngestService, 'ingest'> = {
    ingest: async (points) => {
      got.push(...points);
      return { accepted: points.length, rejected: [], newAccounts: [] };
    },
  };
  const scheduler = createSourceScheduler({ sources: [spec], ingest, state, clock, log: () => undefined });
  return {
    scheduler,
    state,
    async close() {
      await scheduler.stop();
      state.close();
    },
  };
}

function stateFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-sql-'));
  dirs.push(dir);
  return path.join(dir, 'state.db');
}

const ids = (points: readonly Point[]) => points.map((p) => p.value).sort((a, b) => a - b);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// updated_at groups that tie at page boundaries (pages of 3); the first two differ by 1 microsecond
const FIRST: Array<[number, string]> = [
  [1, '2024-03-07 10:00:00.000001+00'],
  [2, '2024-03-07 10:00:00.000001+00'],
  [3, '2024-03-07 10:00:00.000001+00'],
  [4, '2024-03-07 10:00:00.000001+00'],
  [5, '2024-03-07 10:00:00.000002+00'],
  [6, '2024-03-07 10:00:00.000002+00'],
  [7, '2024-03-07 10:00:01+00'],
];
// inserted after the restart: two rows tie with the last row already read, one is later
const SECOND: Array<[number, string]> = [
  [8, '2024-03-07 10:00:01+00'],
  [9, '2024-03-07 10:00:01+00'],
  [10, '2024-03-07 10:00:02.5+00'],
];

const COLUMNS = 'id, account_id, metric, value, recorded_at, updated_at';
const MAP = { account: 'account_id', metric: 'metric', value: 'value', time: 'recorded_at' };

describe('sql source: incremental pulls across a restart, ties at every page boundary', () => {
  it.each<[string, (table: string) => Record<string, unknown>, boolean]>([
    ['table mode (generated keyset query)', (t) => ({ table: t, batch_size: 3, max_pages: 2, map: MAP }), false],
    [
      'query mode, keyset (updated_at, id) > ($1, $2) LIMIT $3',
      (t) => ({
        query: `SELECT ${COLUMNS} FROM "${t}" WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3`,
        batch_size: 3,
        max_pages: 2,
        map: MAP,
      }),
      false,
    ],
    [
      // 4 rows share the first value, so pages of 5 (a page must hold every row of one value)
      'query mode, inclusive updated_at >= $1 LIMIT 5 (boundary re-read, seen keys skipped)',
      (t) => ({ query: `SELECT ${COLUMNS} FROM "${t}" WHERE updated_at >= $1 ORDER BY updated_at, id LIMIT 5`, max_pages: 1, map: MAP }),
      true,
    ],
  ])('%s: every row exactly once', async (_name, entry, rereads) => {
    const table = await createUsageTable();
    const spec = sqlSource(entry(table));
    const file = stateFile();
    const got: Point[] = [];
    await insert(table, FIRST);

    // first life: max_pages 2 stops the pull with rows waiting, so the restart begins mid-table
    const first = start(spec, file, got);
    const o1 = await first.scheduler.runNow('usage');
    expect(o1).toMatchObject({ ok: true });
    expect(first.scheduler.status()[0]?.nextRunAtMs).toBe(T0); // a backlog: the next pull is due at once
    const afterFirst = got.length;
    expect(afterFirst).toBeGreaterThanOrEqual(5);
    await first.close();

    // restart: a new scheduler on the same state file; more rows arrive, two tying with the last one read
    await insert(table, SECOND);
    const second = start(spec, file, got);
    for (let i = 0; i < 4; i++) expect((await second.scheduler.runNow('usage')).ok).toBe(true);
    // the inclusive query re-reads the rows at the boundary (5, 7, then 10 on every pull) and skips them by key
    expect(second.scheduler.status()[0]!.skipped > 0).toBe(rereads);
    await second.close();

    expect(ids(got)).toEqual(range(1, 10));
    expect(got.every((p) => p.account === 'acme' && p.metric === 'api_calls')).toBe(true);
    expect(got.find((p) => p.value === 3)?.tsMs).toBe(Date.UTC(2024, 2, 7, 10, 3));

    // a third life with nothing new pulls nothing
    const third = start(spec, file, got);
    await third.scheduler.runNow('usage');
    expect(got).toHaveLength(10);
    expect(third.scheduler.status()[0]?.newestEventMs).toBe(Date.UTC(2024, 2, 7, 10, 10));
    await third.close();
  });

  it('reads several value columns of a wide row as several metrics (query mode, event time from a date)', async () => {
    const table = db.uniqueName('fw_pull_daily');
    await db.client.query(
      `CREATE TABLE "${table}" (id serial PRIMARY KEY, tenant text, day date, api_calls bigint, storage_gb numeric, updated_at timestamp)`,
    );
    await db.client.query(
      `INSERT INTO "${table}" (tenant, day, api_calls, storage_gb, updated_at) VALUES
       ('acme', '2024-03-05', 9007199254740993, 1.25, '2024-03-06 00:00:00.5'), ('globex', '2024-03-05', 12, NULL, '2024-03-06 00:00:00.5')`,
    );
    const spec = sqlSource({
      query: `SELECT * FROM "${table}" WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3`,
      map: { account: 'tenant', time: 'day', values: { api_calls: 'api_calls', storage_gb: 'storage_gb' } },
    });
    const got: Point[] = [];
    const run = start(spec, stateFile(), got);
    expect(await run.scheduler.runNow('usage')).toMatchObject({ ok: true, rejected: 0 });
    await run.close();
    const day = Date.UTC(2024, 2, 5);
    // bigint and numeric arrive as text and become numbers; a NULL cell of a wide row is "not measured"
    expect(got).toEqual([
      { account: 'acme', metric: 'api_calls', tsMs: day, value: 9007199254740992 },
      { account: 'acme', metric: 'storage_gb', tsMs: day, value: 1.25 },
      { account: 'globex', metric: 'api_calls', tsMs: day, value: 12 },
    ]);
  });
});

describe('sql source: bad rows, stuck pages, settle, outages', () => {
  it('rejects bad rows with their key and reason, keeps the good ones, and moves past them', async () => {
    const table = await createUsageTable();
    await insert(table, [
      [1, '2024-03-07 10:00:00+00'],
      [2, '2024-03-07 10:00:01+00'],
      [3, '2024-03-07 10:00:02+00'],
      [4, '2024-03-07 10:00:03+00'],
    ]);
    await db.client.query(`UPDATE "${table}" SET account_id = NULL WHERE id = 2`);
    await db.client.query(`UPDATE "${table}" SET value = 'NaN' WHERE id = 3`);
    const spec = sqlSource({ table, map: MAP });
    const got: Point[] = [];
    const file = stateFile();
    const run = start(spec, file, got);
    const outcome = await run.scheduler.runNow('usage');
    expect(outcome).toMatchObject({ ok: true, accepted: 2, rejected: 2 });
    expect(ids(got)).toEqual([1, 4]);
    const status = run.scheduler.statusJson()[0]!;
    expect(status.rowsRejected).toBe(2);
    expect(status.rejectsByReason).toEqual({ missing_account: 1, non_finite: 1 });
    expect(status.recentRejects.map((r) => [r.origin, r.code])).toEqual([
      ['row id=2', 'missing_account'],
      ['row id=3', 'non_finite'],
    ]);
    expect(status.recentRejects[1]?.reason).toBe('value field "value" of api_calls is NaN');
    // the bad rows are behind the cursor: the next pull neither re-reads nor re-rejects them
    await run.scheduler.runNow('usage');
    expect(run.scheduler.statusJson()[0]?.rowsRejected).toBe(2);
    await run.close();
  });

  it('inclusive query: a full page of rows sharing one cursor value is an error naming the fix, not a loop', async () => {
    const table = await createUsageTable();
    await insert(
      table,
      range(1, 4).map((id): [number, string] => [id, '2024-03-07 10:00:00+00']),
    );
    const spec = sqlSource({ query: `SELECT ${COLUMNS} FROM "${table}" WHERE updated_at >= $1 ORDER BY updated_at, id LIMIT 3`, map: MAP });
    const got: Point[] = [];
    const run = start(spec, stateFile(), got);
    const outcome = await run.scheduler.runNow('usage');
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/all 3 rows of a full page share the cursor value 2024-03-07 10:00:00\+00 .*raise the LIMIT/);
    expect(ids(got)).toEqual([1, 2, 3]); // what was read before is stored, nothing twice
    expect(run.scheduler.status()[0]).toMatchObject({ state: 'backoff', consecutiveFailures: 1 });
    await run.close();
  });

  it('table mode with settle leaves rows younger than the settle time for a later pull', async () => {
    const table = await createUsageTable();
    await db.client.query(
      `INSERT INTO "${table}" VALUES (1, 'acme', 'api_calls', 1, now(), now() - interval '2 hours'), (2, 'acme', 'api_calls', 2, now(), now())`,
    );
    const got: Point[] = [];
    const run = start(sqlSource({ table, settle: '1h', map: MAP }), stateFile(), got);
    await run.scheduler.runNow('usage');
    expect(ids(got)).toEqual([1]);
    await run.close();
  });

  it('a server that refuses connections is a failure with the reason, retried after the backoff', async () => {
    const clock = new ManualClock(T0);
    const spec = sqlSource({
      url: 'postgres://postgres@127.0.0.1:1/test',
      timeout: '2s',
      backoff: { initial: '10s', max: '1m' },
      table: 'nowhere',
      map: MAP,
    });
    const run = start(spec, stateFile(), [], clock);
    const outcome = await run.scheduler.runNow('usage');
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/^source "usage": query failed: .*ECONNREFUSED/);
    expect(run.scheduler.status()[0]).toMatchObject({ state: 'backoff', nextRunAtMs: T0 + 10_000 });
    await run.close();
  });
});

describe('sql source: the page queries', () => {
  const base = { url: 'postgres://x@h/db', map: MAP };
  it.each<[string, Record<string, unknown>, Parameters<typeof pageQuery>[1], string, unknown[]]>([
    [
      'table, first page',
      { table: 'public.usage', batch_size: 500 },
      undefined,
      'SELECT "updated_at", "id", "recorded_at", "account_id", "metric", "value" FROM "public"."usage" ORDER BY "updated_at", "id" LIMIT 500',
      [],
    ],
    [
      'table, from a cursor, with settle',
      { table: 'usage', settle: '30s' },
      { v: '2024-03-07 10:00:00.000001+00', k: '42' },
      'SELECT "updated_at", "id", "recorded_at", "account_id", "metric", "value" FROM "usage" WHERE ("updated_at", "id") > ($1, $2) AND "updated_at" <= now() - interval \'30000 milliseconds\' ORDER BY "updated_at", "id" LIMIT 1000',
      ['2024-03-07 10:00:00.000001+00', '42'],
    ],
    ['table, start before the first pull', { table: 'usage', start: '2024-01-01' }, undefined, 'WHERE "updated_at" > $1', ['2024-01-01']],
    [
      'query, inclusive, first pull from -infinity',
      { query: 'SELECT * FROM u WHERE updated_at >= $1 ORDER BY updated_at' },
      undefined,
      'SELECT * FROM u WHERE updated_at >= $1 ORDER BY updated_at',
      ['-infinity'],
    ],
    [
      'query, keyset with $3',
      { query: 'SELECT * FROM u WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3', batch_size: 50, start: 0 },
      undefined,
      'LIMIT $3',
      ['0', null, 50],
    ],
  ])('%s', (_name, entry, cursor, text, values) => {
    const spec = sourcesFileSchema.parse({ sources: [{ name: 's', kind: 'sql', ...base, ...entry }] }).sources[0] as SqlSourceSpec;
    const q = pageQuery(spec, cursor);
    expect(q.text).toContain(text);
    expect(q.values).toEqual(values);
  });
});
