/**
 * The SQL pull source: an incremental query against PostgreSQL (`pg`), read page by page in the
 * order of a cursor column (e.g. `updated_at`) with a unique key column as tie-breaker.
 *
 * Two ways to page, chosen by the parameters the query uses:
 * - keyset (table mode, or a query using `$2`): `WHERE (updated_at, id) > ($1, $2) ORDER BY
 *   updated_at, id LIMIT n`. The cursor is the (cursor, key) of the last row; rows sharing an
 *   updated_at across a page boundary are neither skipped nor read twice.
 * - inclusive (a query using only `$1`): `WHERE updated_at >= $1 ORDER BY updated_at LIMIT n`. The
 *   cursor is the last cursor value plus the keys already read at that value; the boundary rows
 *   come back on the next page and are skipped by key. A full page of already-read rows (more
 *   rows share one value than a page holds) is reported as an error instead of looping.
 *
 * Cursor values are kept as PostgreSQL's own text (timestamps are not parsed into JS dates, which
 * would drop microseconds and re-read rows), and the session time zone is UTC.
 */
import pg from 'pg';
import type { SqlSourceSpec } from '../../config/types.ts';
import { sqlParameters } from '../../config/sources-schema.ts';
import type { Point } from '../../domain/types.ts';
import { createRowMapper } from './mapping.ts';
import { errorText, requireEnv, type PullContext, type PullPage, type PullReject, type PullSource } from './source.ts';

/** The persisted cursor of a SQL source. */
export interface SqlCursor {
  /** cursor column of the last row read, as PostgreSQL's text */
  v: string;
  /** keyset: key of the last row */
  k?: string;
  /** inclusive: keys of the rows already read whose cursor equals `v` */
  seen?: string[];
}

/** Options of `createSqlSource`. */
export interface SqlSourceOptions {
  spec: SqlSourceSpec;
  ctx: PullContext;
}

/** type oids whose text form is kept as it is (timestamps keep their microseconds) */
const RAW_TEXT_TYPES = new Set([1082 /* date */, 1114 /* timestamp */, 1184 /* timestamptz */, 1083 /* time */, 1266 /* timetz */]);

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_TYPES.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Quotes a (possibly schema-qualified) identifier. */
export function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join('.');
}

/** The query text and parameters of one page. */
export interface PageQuery {
  text: string;
  values: unknown[];
  /** rows a full page holds; undefined: the query has no limit (one page reads everything) */
  limit: number | undefined;
  /** keyset paging (else inclusive) */
  keyset: boolean;
}

/** Builds the query of the next page from the cursor. Exported for tests. */
export function pageQuery(spec: SqlSourceSpec, cursor: SqlCursor | undefined): PageQuery {
  if (spec.table !== undefined) {
    const c = quoteIdent(spec.cursor);
    const k = quoteIdent(spec.key);
    const fields = new Set<string>([spec.cursor, spec.key]);
    if (spec.map.time !== undefined) fields.add(spec.map.time);
    if ('from' in spec.map.account) fields.add(spec.map.account.from);
    for (const v of spec.map.values) {
      if ('from' in v.metric) fields.add(v.metric.from);
      fields.add(v.value);
    }
    const where: string[] = [];
    const values: unknown[] = [];
    if (cursor) {
      values.push(cursor.v, cursor.k ?? null);
      where.push(`(${c}, ${k}) > ($1, $2)`);
    } else if (spec.start !== undefined) {
      values.push(spec.start);
      where.push(`${c} > $1`);
    }
    // rows newer than this may still be joined by rows of transactions that commit later
    if (spec.settleMs > 0) where.push(`${c} <= now() - interval '${Math.floor(spec.settleMs)} milliseconds'`);
    const text =
      `SELECT ${[...fields].map(quoteIdent).join(', ')} FROM ${quoteIdent(spec.table)}` +
      `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${c}, ${k} LIMIT ${spec.batchSize}`;
    return { text, values, limit: spec.batchSize, keyset: true };
  }
  const query = spec.query ?? '';
  const params = sqlParameters(query);
  const keyset = params.has(2);
  const all = [cursor?.v ?? spec.start ?? '-infinity', cursor?.k ?? null, spec.batchSize];
  const values = all.slice(0, params.has(3) ? 3 : keyset ? 2 : 1);
  const literal = /\blimit\s+(\d+)\b/i.exec(query.replace(/--[^\n]*/g, ' ').replace(/'(?:[^']|'')*'/g, "''"));
  const limit = params.has(3) ? spec.batchSize : literal ? Number(literal[1]) : undefined;
  return { text: query, values, limit, keyset };
}

/** A cell as text, for cursor values and keys. */
function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Reads a persisted cursor, ignoring anything that does not look like one. */
function asCursor(raw: unknown): SqlCursor | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const c = raw as Partial<SqlCursor>;
  if (typeof c.v !== 'string') return undefined;
  const out: SqlCursor = { v: c.v };
  if (typeof c.k === 'string') out.k = c.k;
  if (Array.isArray(c.seen)) out.seen = c.seen.filter((s): s is string => typeof s === 'string');
  return out;
}

/** Creates a SQL source. Connects lazily; throws when `url_env` is not set. */
export function createSqlSource(options: SqlSourceOptions): PullSource {
  const { spec, ctx } = options;
  const url = spec.url ?? requireEnv(ctx, spec.name, spec.urlEnv ?? '', 'url_env');
  const where = `source "${spec.name}"`;
  let poolError: Error | undefined;
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: spec.timeoutMs,
    idleTimeoutMillis: Math.max(10_000, spec.intervalMs * 2),
    query_timeout: spec.timeoutMs,
    statement_timeout: spec.timeoutMs,
    application_name: `forewarn:${spec.name}`.slice(0, 63),
    options: '-c TimeZone=UTC',
    types,
  });
  // an idle connection dropped by the server must not crash the process: the next pull reconnects
  pool.on('error', (err) => {
    poolError = err;
  });
  const mapper = createRowMapper(spec.map, { dotted: false, zonelessIsUtc: true });

  async function* pages(rawCursor: unknown, signal: AbortSignal): AsyncGenerator<PullPage, void, void> {
    let cursor = asCursor(rawCursor);
    for (let page = 0; page < spec.maxPages; page++) {
      if (signal.aborted) return;
      const q = pageQuery(spec, cursor);
      let rows: Array<Record<string, unknown>>;
      let fields: string[];
      try {
        const result = await pool.query<Record<string, unknown>>({ text: q.text, values: q.values });
        rows = result.rows;
        fields = result.fields.map((f) => f.name);
      } catch (err) {
        const hint = poolError && poolError !== err ? ` (connection: ${poolError.message})` : '';
        poolError = undefined;
        throw new Error(`${where}: query failed: ${errorText(err)}${hint}`, { cause: err });
      }
      if (rows.length > 0) {
        for (const col of [spec.cursor, spec.key]) {
          if (!fields.includes(col)) {
            throw new Error(
              `${where}: the query result has no column "${col}" (${col === spec.cursor ? 'cursor' : 'key'}); columns: ${fields.join(', ')}`,
            );
          }
        }
      }
      const nowMs = ctx.clock.nowMs();
      const points: Point[] = [];
      const origins: string[] = [];
      const rejects: PullReject[] = [];
      const seen = new Set(cursor?.seen ?? []);
      let skipped = 0;
      let fresh = 0;
      let lastV: string | undefined;
      let lastK: string | undefined;
      const keysAtLast: string[] = [];
      for (const row of rows) {
        const v = cellText(row[spec.cursor]);
        const k = cellText(row[spec.key]) ?? '';
        const origin = `row ${spec.key}=${k}`;
        if (v === null) {
          // ORDER BY puts NULLs last and no comparison ever matches them: say so instead of looping
          rejects.push({ origin, code: 'bad_cursor', reason: `cursor column "${spec.cursor}" is null` });
          continue;
        }
        if (!q.keyset && cursor && v === cursor.v && seen.has(k)) {
          skipped += 1;
        } else {
          fresh += 1;
          const mapped = mapper(row, nowMs);
          for (const p of mapped.points) {
            points.push(p);
            origins.push(origin);
          }
          for (const e of mapped.errors) rejects.push({ origin, code: e.code, reason: e.reason });
        }
        if (v !== lastV) keysAtLast.length = 0;
        keysAtLast.push(k);
        lastV = v;
        lastK = k;
      }
      const full = q.limit !== undefined && rows.length >= q.limit;
      if (!q.keyset && full && fresh === 0) {
        throw new Error(
          `${where}: all ${rows.length} rows of a full page share the cursor value ${lastV ?? '?'} and were read before; ` +
            `more rows share one value than a page holds: raise the LIMIT / batch_size or page with a keyset query ($2)`,
        );
      }
      if (lastV !== undefined) {
        if (q.keyset) cursor = { v: lastV, k: lastK ?? '' };
        else {
          const keys = lastV === cursor?.v ? [...new Set([...(cursor.seen ?? []), ...keysAtLast])] : [...new Set(keysAtLast)];
          cursor = { v: lastV, seen: keys };
        }
      }
      const more = full && (q.keyset || fresh > 0);
      yield { points, origins, rejects, skipped, cursor, more: more && page === spec.maxPages - 1, warnings: [] };
      if (!more) return;
    }
  }

  return {
    spec,
    pages,
    async close() {
      await pool.end();
    },
  };
}
