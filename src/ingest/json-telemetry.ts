/**
 * Parser of the JSON telemetry body of `POST /api/telemetry`: an array of
 * `{ account, metric, ts?, value, tags? }` items, already decoded by `JSON.parse`.
 *
 * - `account`, `metric`: non-empty strings
 * - `value`: a finite number (`1e400`, which `JSON.parse` turns into Infinity, is `non_finite`)
 * - `ts`: a number of ms since the epoch (fractions rounded down) or an ISO 8601 instant in the
 *   RFC 3339 profile (`2024-03-07T10:15:00Z`, `2024-03-07T10:15:00.123+01:00`, or a date
 *   `2024-03-07` meaning midnight UTC); a date-time without a zone is rejected as ambiguous.
 *   Missing: `defaultTimeMs`.
 * - `tags`: an object of strings, kept in `Point.tags` only with `keepTags`
 * - any other key is an error, so that a misspelt `timestamp` is not silently replaced by the
 *   server's clock.
 *
 * Each bad item yields one error (`line` = index + 1, reason `item <index + 1>: ...`); the good
 * items are kept. A body that is not an array is a single error with `line` 0.
 */
import type { Point } from '../domain/types.ts';
import { ERROR_TEXT_MAX_CHARS } from './parse-result.ts';
import type { LineError, ParseErrorCode, ParseResult } from './parse-result.ts';

/** Options of `parseJsonTelemetry`. */
export interface JsonTelemetryOptions {
  /** event time (ms) of items without `ts`, usually the server's clock */
  defaultTimeMs: number;
  /** keep `tags` in the points (default false, like the line protocol parser) */
  keepTags?: boolean;
}

/** Keys an item may have. */
const ITEM_KEYS: ReadonlySet<string> = new Set(['account', 'metric', 'ts', 'value', 'tags']);

/** The range of a JS Date: ±8.64e15 ms. */
const MAX_ABS_TS_MS = 8.64e15;

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * Parses a decoded JSON telemetry body into points, never throwing on bad data: each bad item
 * yields one error and the good items are kept.
 */
export function parseJsonTelemetry(body: unknown, options: JsonTelemetryOptions): ParseResult {
  const points: Point[] = [];
  const lines: number[] = [];
  const errors: LineError[] = [];
  if (!Array.isArray(body)) {
    errors.push({
      line: 0,
      code: 'syntax',
      reason: `body must be a json array of points, got ${describe(body)}`,
      text: excerpt(body),
    });
    return { points, lines, errors, skippedStringFields: 0 };
  }
  const defaultTsMs = Math.floor(options.defaultTimeMs);
  const keepTags = options.keepTags ?? false;
  for (let index = 0; index < body.length; index++) {
    const item: unknown = body[index];
    const line = index + 1;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      fail(errors, line, item, 'syntax', `must be an object, got ${describe(item)}`);
      continue;
    }
    const o = item as Record<string, unknown>;
    let unknown: string | undefined;
    for (const k in o) {
      if (!ITEM_KEYS.has(k)) {
        unknown = k;
        break;
      }
    }
    if (unknown !== undefined) {
      fail(errors, line, item, 'syntax', `unknown key ${JSON.stringify(unknown)} (expected account, metric, ts, value, tags)`);
      continue;
    }
    const { account, metric, value, ts, tags } = o;
    if (typeof account !== 'string' || account.length === 0) {
      fail(errors, line, item, 'missing_account', `"account" must be a non-empty string`);
      continue;
    }
    if (typeof metric !== 'string' || metric.length === 0) {
      fail(errors, line, item, 'missing_metric', `"metric" must be a non-empty string`);
      continue;
    }
    if (typeof value !== 'number') {
      fail(errors, line, item, 'bad_value', `"value" must be a finite number, got ${describe(value)}`);
      continue;
    }
    if (!Number.isFinite(value)) {
      fail(errors, line, item, 'non_finite', `"value" must be a finite number, got ${String(value)}`);
      continue;
    }
    let tsMs = defaultTsMs;
    if (ts !== undefined) {
      const parsed = parseTs(ts);
      if (typeof parsed === 'string') {
        fail(errors, line, item, 'bad_timestamp', parsed);
        continue;
      }
      tsMs = parsed;
    }
    let pointTags: Record<string, string> | undefined;
    if (tags !== undefined) {
      if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
        fail(errors, line, item, 'syntax', `"tags" must be an object of strings, got ${describe(tags)}`);
        continue;
      }
      const bad = Object.entries(tags).find(([, v]) => typeof v !== 'string');
      if (bad !== undefined) {
        fail(errors, line, item, 'syntax', `tag ${JSON.stringify(bad[0])} must be a string, got ${describe(bad[1])}`);
        continue;
      }
      if (keepTags) pointTags = { ...(tags as Record<string, string>) };
    }
    points.push(pointTags === undefined ? { account, metric, tsMs, value } : { account, metric, tsMs, value, tags: pointTags });
    lines.push(line);
  }
  return { points, lines, errors, skippedStringFields: 0 };
}

function fail(errors: LineError[], line: number, item: unknown, code: ParseErrorCode, problem: string): void {
  errors.push({ line, code, reason: `item ${line}: ${problem}`, text: excerpt(item) });
}

/** ms since the epoch, or the problem (a string) */
function parseTs(ts: unknown): number | string {
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return `"ts" must be a finite number of ms, got ${String(ts)}`;
    if (Math.abs(ts) > MAX_ABS_TS_MS) return `"ts" ${ts} is out of range (at most ±8.64e15 ms)`;
    return Math.floor(ts);
  }
  if (typeof ts === 'string') {
    const ms = parseIsoInstant(ts);
    if (typeof ms === 'string') return `"ts" ${JSON.stringify(ts.slice(0, 60))} ${ms}`;
    return ms;
  }
  return `"ts" must be an iso 8601 string or a number of ms since the epoch, got ${describe(ts)}`;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses an RFC 3339 / ISO 8601 extended instant; returns ms since the epoch or the problem.
 * Exported for tests and for other inputs that take instants.
 */
export function parseIsoInstant(s: string): number | string {
  const m = ISO_INSTANT.exec(s);
  if (m === null) return 'is not an iso 8601 instant (e.g. 2024-03-07T10:15:00Z)';
  const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  if (month < 1 || month > 12) return 'has an invalid month';
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > dim) return 'has an invalid day of the month';
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let offsetMin = 0;
  if (hs !== undefined) {
    if (z === undefined && sign === undefined) return 'has no time zone (add Z or an offset such as +01:00)';
    hour = Number(hs);
    minute = Number(mis);
    second = ss === undefined ? 0 : Number(ss);
    if (hour > 23 || minute > 59 || second > 59) return 'has an invalid time of day';
    if (frac !== undefined) ms = Number(frac.slice(0, 3).padEnd(3, '0'));
    if (sign !== undefined) {
      const oh = Number(ohs);
      const om = Number(oms);
      if (oh > 23 || om > 59) return 'has an invalid utc offset';
      offsetMin = (sign === '-' ? -1 : 1) * (oh * 60 + om);
    }
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, keeps years 0-99 as they are
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMin * 60_000;
}

/** A short description of a JSON value's type for error reasons. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

/** The item, serialized and cut to `ERROR_TEXT_MAX_CHARS`. */
function excerpt(v: unknown): string {
  let s: string | undefined;
  try {
    // show non-finite numbers (which JSON would print as null) as they are
    s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  } catch {
    s = undefined;
  }
  return (s ?? String(v)).slice(0, ERROR_TEXT_MAX_CHARS);
}
