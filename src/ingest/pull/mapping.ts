/**
 * The field mapping of pull sources: turns one SQL row or one JSON item into points (one per
 * mapped value) using the `FieldMapping` of sources.yaml. Never throws on bad data: a bad account
 * or time rejects the row, a bad value rejects that one point, each with a code and a reason.
 */
import type { FieldMapping, FieldSource } from '../../config/types.ts';
import type { Point } from '../../domain/types.ts';
import { parseIsoInstant } from '../json-telemetry.ts';
import type { ParseErrorCode } from '../parse-result.ts';

/** One problem with a row or with one value of it. */
export interface MappingError {
  code: ParseErrorCode;
  reason: string;
}

/** What one row became. */
export interface MappedRow {
  points: Point[];
  errors: MappingError[];
}

/** Options of `createRowMapper`. */
export interface RowMapperOptions {
  /** field names are dotted paths into nested objects (HTTP JSON); false: plain keys (SQL columns) */
  dotted: boolean;
  /**
   * read a date-time without a zone (`2024-03-07 10:15:00`, a PostgreSQL `timestamp`) as UTC;
   * false: reject it as ambiguous, like the JSON telemetry endpoint
   */
  zonelessIsUtc: boolean;
}

/** Maps one row or item; `nowMs` is the event time when the mapping has no time field. */
export type RowMapper = (row: unknown, nowMs: number) => MappedRow;

const MAX_ABS_TS_MS = 8.64e15;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads `path` from `obj`: a plain key, or with `dotted` a path such as `usage.api.calls` or `items.0.v`. */
export function readField(obj: unknown, path: string, dotted: boolean): unknown {
  if (!dotted) return obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>)[path] : undefined;
  let node: unknown = obj;
  for (const seg of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? (/^\d+$/.test(seg) ? node[Number(seg)] : undefined) : (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** A number from a JSON number, a numeric string (PostgreSQL numeric / bigint), a bigint or a boolean. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (NUMERIC.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(s)) return NaN;
  }
  return undefined;
}

/**
 * An event time in ms from a number (in `unit`), a numeric string, a `Date`, an ISO 8601 instant or
 * PostgreSQL's text form (`2024-03-07 10:15:00.123456+00`). Returns the problem as a string.
 */
export function toTimeMs(v: unknown, unit: 'ms' | 's', zonelessIsUtc: boolean): number | string {
  let ms: number | undefined;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'string' && !NUMERIC.test(v.trim())) {
    let s = v.trim();
    // PostgreSQL text form: a space before the time, and offsets written +00 or +05:30
    if (/^\d{4}-\d{2}-\d{2} \d/.test(s)) s = `${s.slice(0, 10)}T${s.slice(11)}`;
    if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?[+-]\d{2}$/.test(s)) s = `${s}:00`;
    if (zonelessIsUtc && /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s = `${s}Z`;
    const parsed = parseIsoInstant(s);
    if (typeof parsed === 'string') return `time ${JSON.stringify(v.slice(0, 60))} ${parsed}`;
    ms = parsed;
  } else {
    const n = toNumber(v);
    if (n === undefined || typeof v === 'boolean') return `time must be a number or a timestamp, got ${describe(v)}`;
    ms = unit === 's' ? n * 1000 : n;
  }
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_ABS_TS_MS) return `time ${describe(v)} is out of range`;
  return Math.floor(ms);
}

/** Creates the mapper of one source's mapping. */
export function createRowMapper(mapping: FieldMapping, options: RowMapperOptions): RowMapper {
  const { dotted, zonelessIsUtc } = options;
  const wide = mapping.values.length > 1 || mapping.values.some((v) => 'fixed' in v.metric);
  const textOf = (row: unknown, src: FieldSource, what: string): string | MappingError => {
    if ('fixed' in src) return src.fixed;
    const raw = readField(row, src.from, dotted);
    if (typeof raw === 'string' && raw.trim() !== '') return raw.trim();
    if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
    if (typeof raw === 'bigint') return String(raw);
    return {
      code: what === 'account' ? 'missing_account' : 'missing_metric',
      reason: `${what} field "${src.from}" is ${raw === undefined ? 'missing' : `not a non-empty string (${describe(raw)})`}`,
    };
  };
  return (row, nowMs) => {
    const out: MappedRow = { points: [], errors: [] };
    const account = textOf(row, mapping.account, 'account');
    if (typeof account !== 'string') {
      out.errors.push(account);
      return out;
    }
    let tsMs = Math.floor(nowMs);
    if (mapping.time !== undefined) {
      const raw = readField(row, mapping.time, dotted);
      const t =
        raw === undefined || raw === null
          ? `time field "${mapping.time}" is ${raw === null ? 'null' : 'missing'}`
          : toTimeMs(raw, mapping.timeUnit, zonelessIsUtc);
      if (typeof t === 'string') {
        out.errors.push({ code: 'bad_timestamp', reason: t });
        return out;
      }
      tsMs = t;
    }
    for (const v of mapping.values) {
      const metric = textOf(row, v.metric, 'metric');
      if (typeof metric !== 'string') {
        out.errors.push(metric);
        continue;
      }
      const raw = readField(row, v.value, dotted);
      // in a wide row (one column per metric) an empty cell means "not measured", not an error
      if ((raw === null || raw === undefined) && wide) continue;
      const value = toNumber(raw);
      if (value === undefined) {
        out.errors.push({
          code: 'bad_value',
          reason: `value field "${v.value}" of ${metric} is not a number (${raw === undefined ? 'missing' : describe(raw)})`,
        });
      } else if (!Number.isFinite(value)) {
        out.errors.push({ code: 'non_finite', reason: `value field "${v.value}" of ${metric} is ${String(value)}` });
      } else {
        out.points.push({ account, metric, tsMs, value });
      }
    }
    return out;
  };
}

/** A short description of a value for reasons. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return `date ${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
