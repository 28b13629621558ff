/**
 * The HTTP JSON pull source: GETs a URL on the source's interval, takes the array of items at
 * `items` (a dotted path; the body itself when unset) and maps each item to points with the
 * field mapping (dotted paths such as `usage.api_calls`).
 *
 * Cursor: the newest event time pulled, plus the account x metric keys already pulled at exactly
 * that time. With `cursor_param` the cursor is sent as a query parameter (`?since=...`, ISO 8601,
 * ms or s); whether the server answers with items at or after it, or the whole list again,
 * items older than the cursor and items at the cursor already pulled are skipped, so nothing is
 * ingested twice. (An item that shows up later with an event time older than the cursor is
 * therefore not pulled: this source follows event time forward.)
 */
import type { HttpJsonSourceSpec } from '../../config/types.ts';
import type { Point } from '../../domain/types.ts';
import { createRowMapper, describe, readField } from './mapping.ts';
import { errorText, resolveHeaders, type PullContext, type PullPage, type PullReject, type PullSource } from './source.ts';

/** Options of `createHttpJsonSource`. */
export interface HttpJsonSourceOptions {
  spec: HttpJsonSourceSpec;
  ctx: PullContext;
}

/** The persisted cursor: newest event time pulled and the keys (account \0 metric) at that time. */
export interface HttpJsonCursor {
  t: number;
  seen: string[];
}

const MAX_BODY_CHARS = 64 * 1024 * 1024;

function asCursor(raw: unknown): HttpJsonCursor | undefined {
  const c = raw as Partial<HttpJsonCursor> | null | undefined;
  if (!c || typeof c.t !== 'number' || !Number.isFinite(c.t)) return undefined;
  return { t: c.t, seen: Array.isArray(c.seen) ? c.seen.filter((s): s is string => typeof s === 'string') : [] };
}

/** The cursor as the query parameter value. */
export function formatCursor(tMs: number, format: HttpJsonSourceSpec['cursorFormat']): string {
  if (format === 'ms') return String(tMs);
  if (format === 's') return String(Math.floor(tMs / 1000));
  return new Date(tMs).toISOString();
}

/** Creates an HTTP JSON source; throws when a `headers_env` variable is not set. */
export function createHttpJsonSource(options: HttpJsonSourceOptions): PullSource {
  const { spec, ctx } = options;
  const headers = { accept: 'application/json', ...resolveHeaders(ctx, spec.name, spec.headers, spec.headersEnv) };
  const mapper = createRowMapper(spec.map, { dotted: true, zonelessIsUtc: false });

  async function* pages(rawCursor: unknown, signal: AbortSignal): AsyncGenerator<PullPage, void, void> {
    const cursor = asCursor(rawCursor);
    const url = new URL(spec.url);
    if (spec.cursorParam !== undefined && cursor) url.searchParams.set(spec.cursorParam, formatCursor(cursor.t, spec.cursorFormat));
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]) });
    } catch (err) {
      throw new Error(`GET ${url.href}: ${errorText(err)}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok)
      throw new Error(`GET ${url.href}: HTTP ${res.status} ${res.statusText}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`);
    if (text.length > MAX_BODY_CHARS) throw new Error(`GET ${url.href}: body over ${MAX_BODY_CHARS} characters`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new Error(`GET ${url.href}: body is not valid json: ${(err as Error).message}`, { cause: err });
    }
    const items = spec.items === undefined ? body : readField(body, spec.items, true);
    if (!Array.isArray(items)) {
      throw new Error(
        `GET ${url.href}: ${spec.items === undefined ? 'the body' : `items path "${spec.items}"`} is not an array (got ${describe(items)})`,
      );
    }
    const nowMs = ctx.clock.nowMs();
    const points: Point[] = [];
    const origins: string[] = [];
    const rejects: PullReject[] = [];
    const seen = new Set(cursor?.seen ?? []);
    let skipped = 0;
    let newest = cursor?.t;
    const atNewest = new Set<string>(cursor?.seen ?? []);
    items.forEach((item: unknown, i) => {
      const origin = `${spec.items ?? 'items'}[${i}]`;
      const mapped = mapper(item, nowMs);
      for (const e of mapped.errors) rejects.push({ origin, code: e.code, reason: e.reason });
      for (const p of mapped.points) {
        const key = `${p.account}\u0000${p.metric}`;
        if (spec.map.time !== undefined && cursor && (p.tsMs < cursor.t || (p.tsMs === cursor.t && seen.has(key)))) {
          skipped += 1;
          continue;
        }
        points.push(p);
        origins.push(origin);
        if (spec.map.time === undefined) continue;
        if (newest === undefined || p.tsMs > newest) {
          newest = p.tsMs;
          atNewest.clear();
        }
        if (p.tsMs === newest) atNewest.add(key);
      }
    });
    const next: HttpJsonCursor | undefined = newest === undefined ? undefined : { t: newest, seen: [...atNewest] };
    yield { points, origins, rejects, skipped, cursor: next, more: false, warnings: [] };
  }

  return { spec, pages, close: async () => undefined };
}
