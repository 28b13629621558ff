/**
 * InfluxDB line protocol as Forewarn writes it to a time-series server (pure, no I/O):
 * raw points as `usage,account=<a> <metric>=<value>[,<metric>=<value>...] <ms>` (points of one
 * account and timestamp that arrive next to each other share a line), and the outputs
 * `forewarn_anomaly`, `forewarn_health`, `forewarn_signal`, `forewarn_advisory`.
 * VictoriaMetrics names each field `<measurement>_<field>`, e.g. `usage_api_latency_p95_ms`.
 * Timestamps are written in milliseconds (precision=ms); values as floats.
 */
import type { Point } from '../../domain/types.ts';

/** Characters that line protocol cannot carry in a name, escaped or not. */
const UNWRITABLE = /[\n\r]/;

/** Escapes a tag key, tag value or field key (comma, equals sign, space, backslash). */
export function escapeKey(s: string): string {
  return /[,= \\]/.test(s) ? s.replace(/[,= \\]/g, '\\$&') : s;
}

/** Escapes a measurement name (comma, space, backslash). */
export function escapeMeasurement(s: string): string {
  return /[, \\]/.test(s) ? s.replace(/[, \\]/g, '\\$&') : s;
}

/** True when `s` can be written as a name (non-empty, no line breaks). */
export function isWritableName(s: string): boolean {
  return typeof s === 'string' && s !== '' && !UNWRITABLE.test(s);
}

/** A finite float as line protocol writes it; keeps the sign of -0. */
export function formatFloat(v: number): string {
  return v === 0 && 1 / v < 0 ? '-0' : String(v);
}

/** A millisecond timestamp as an integer (the server's resolution is 1 ms). */
export function formatMs(tsMs: number): string {
  return String(Number.isInteger(tsMs) ? tsMs : Math.round(tsMs));
}

/** Why a point cannot be written, or undefined when it can. */
export function unwritableReason(p: Point): string | undefined {
  if (!Number.isFinite(p.tsMs)) return `a non-finite timestamp ${p.tsMs}`;
  if (!Number.isFinite(p.value)) return `a non-finite value ${p.value}`;
  // VictoriaMetrics replaces a zero timestamp by the time of arrival and cannot store negative ones
  if (p.tsMs < 1) return `timestamp ${p.tsMs}, before 1970-01-01T00:00:00.001Z`;
  if (!isWritableName(p.account)) return 'an empty account or one with a line break';
  if (!isWritableName(p.metric)) return 'an empty metric name or one with a line break';
  return undefined;
}

/** Caches escaped line prefixes per account and field keys per metric (they repeat endlessly). */
export interface LineCache {
  prefixes: Map<string, string>;
  fields: Map<string, string>;
}

/** A cache for {@link formatPoints}; one per measurement. */
export function createLineCache(): LineCache {
  return { prefixes: new Map(), fields: new Map() };
}

/** Past this many entries a cache map is cleared (an unbounded stream of names must not grow it forever). */
const CACHE_LIMIT = 200_000;

function cached(map: Map<string, string>, key: string, make: (k: string) => string): string {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= CACHE_LIMIT) map.clear();
    v = make(key);
    map.set(key, v);
  }
  return v;
}

/**
 * Formats points (already checked with {@link unwritableReason}) under `measurement` with the
 * account as the `account` tag. Lines are separated by `\n`; there is no trailing newline.
 */
export function formatPoints(measurement: string, points: readonly Point[], cache: LineCache): string {
  const m = escapeMeasurement(measurement);
  let out = '';
  let account: string | undefined;
  let ts = NaN;
  let tsText = '';
  // metrics on the current line: a repeated one starts a new line (a line holds each field once)
  const onLine: string[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const field = cached(cache.fields, p.metric, escapeKey);
    if (p.account === account && p.tsMs === ts && !onLine.includes(p.metric)) {
      out += `,${field}=${formatFloat(p.value)}`;
      onLine.push(p.metric);
      continue;
    }
    if (account !== undefined) out += ` ${tsText}\n`;
    account = p.account;
    ts = p.tsMs;
    tsText = formatMs(ts);
    onLine.length = 0;
    onLine.push(p.metric);
    out += `${cached(cache.prefixes, p.account, (a) => `${m},account=${escapeKey(a)}`)} ${field}=${formatFloat(p.value)}`;
  }
  if (account !== undefined) out += ` ${tsText}`;
  return out;
}

/** One line: measurement, tags (skipped when empty), fields (skipped when not finite), ms time. */
export function formatLine(
  measurement: string,
  tags: ReadonlyArray<readonly [string, string]>,
  fields: ReadonlyArray<readonly [string, number]>,
  tsMs: number,
): string | undefined {
  let line = escapeMeasurement(measurement);
  for (const [k, v] of tags) if (isWritableName(v)) line += `,${escapeKey(k)}=${escapeKey(v)}`;
  let sep = ' ';
  for (const [k, v] of fields) {
    if (!Number.isFinite(v)) continue;
    line += `${sep}${escapeKey(k)}=${formatFloat(v)}`;
    sep = ',';
  }
  if (sep === ' ' || !Number.isFinite(tsMs) || tsMs < 1) return undefined;
  return `${line} ${formatMs(tsMs)}`;
}

/** The Prometheus/MetricsQL string literal of `s` (double quotes, backslash escapes). */
export function promString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n')}"`;
}

/** `s` as a regular expression matching itself literally (RE2 syntax). */
export function regexLiteral(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}
