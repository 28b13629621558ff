/**
 * Parser of the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, as served on
 * `/metrics`. prom-client only writes this format, so the parser is written here:
 *
 *     # HELP http_requests_total Requests.
 *     # TYPE http_requests_total counter
 *     http_requests_total{method="post",code="200"} 1027 1395066363000
 *     {"my.metric", tenant="acme"} 3          (quoted UTF-8 names, Prometheus 3)
 *
 * - label values unescape `\\`, `\"` and `\n`; a trailing comma in the label set is accepted
 * - values: floats, `NaN`, `+Inf`, `-Inf` (kept as numbers; the caller decides what to keep)
 * - timestamps: integer milliseconds in the Prometheus format, (fractional) seconds in OpenMetrics
 * - OpenMetrics exemplars (` # {...} v ts`) and `# EOF` are accepted and ignored
 * - a bad line becomes one error with its 1-based line number; the other lines are still read
 */

/** One sample. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** the sample's own timestamp, ms; undefined when it has none */
  tsMs?: number;
  line: number;
}

/** One unreadable line. */
export interface ExpositionError {
  line: number;
  code: 'syntax' | 'bad_value' | 'bad_timestamp';
  reason: string;
}

/** What `parseExposition` returns. */
export interface Exposition {
  samples: Sample[];
  errors: ExpositionError[];
  /** metric family name -> type from `# TYPE` (counter, gauge, histogram, summary, untyped, ...) */
  types: Map<string, string>;
}

/** Options of `parseExposition`. */
export interface ExpositionOptions {
  /** OpenMetrics (timestamps in seconds) rather than the Prometheus text format (milliseconds) */
  openMetrics: boolean;
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:]/;

/** True when a `Content-Type` header announces OpenMetrics. */
export function isOpenMetrics(contentType: string | null | undefined): boolean {
  return (contentType ?? '').toLowerCase().includes('application/openmetrics-text');
}

/** Parses an exposition body; never throws on bad lines. */
export function parseExposition(text: string, options: ExpositionOptions): Exposition {
  const samples: Sample[] = [];
  const errors: ExpositionError[] = [];
  const types = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(trimmed);
      if (m) types.set(unquote(m[1]!), m[2]!.toLowerCase());
      continue;
    }
    const r = parseSampleLine(trimmed, options.openMetrics);
    if (typeof r === 'string') errors.push({ line: lineNo, code: 'syntax', reason: r });
    else if ('code' in r) errors.push({ line: lineNo, ...r });
    else samples.push({ ...r, line: lineNo });
  }
  return { samples, errors, types };
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}

type Parsed = Omit<Sample, 'line'>;
type Problem = { code: 'bad_value' | 'bad_timestamp'; reason: string };

/** Parses one sample line; a string is a syntax problem. */
function parseSampleLine(s: string, openMetrics: boolean): Parsed | Problem | string {
  let i = 0;
  let name = '';
  if (NAME_START.test(s[0] ?? '')) {
    while (i < s.length && NAME_CHAR.test(s[i]!)) i++;
    name = s.slice(0, i);
  } else if (s[0] !== '{') {
    return `expected a metric name at the start of the line`;
  }
  const labels: Record<string, string> = {};
  if (s[i] === '{') {
    i++;
    let first = true;
    for (;;) {
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (s[i] === '}') {
        i++;
        break;
      }
      if (i >= s.length) return 'unterminated label set (missing })';
      // a label name, bare or quoted; a quoted string without "=" first in the set is the metric name
      let key: string;
      if (s[i] === '"') {
        const q = readQuoted(s, i);
        if (typeof q === 'string') return q;
        key = q.value;
        i = q.end;
      } else {
        const start = i;
        while (i < s.length && /[A-Za-z0-9_]/.test(s[i]!)) i++;
        key = s.slice(start, i);
        if (key === '' || !/[A-Za-z_]/.test(key[0]!)) return `invalid label name at column ${start + 1}`;
      }
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (first && name === '' && (s[i] === ',' || s[i] === '}')) {
        name = key;
      } else {
        if (s[i] !== '=') return `expected = after label "${key}"`;
        i++;
        while (s[i] === ' ' || s[i] === '\t') i++;
        if (s[i] !== '"') return `label "${key}": value must be a double-quoted string`;
        const q = readQuoted(s, i);
        if (typeof q === 'string') return `label "${key}": ${q}`;
        if (key in labels) return `duplicate label "${key}"`;
        labels[key] = q.value;
        i = q.end;
      }
      first = false;
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] === '}') {
        i++;
        break;
      }
      return `expected , or } in the label set at column ${i + 1}`;
    }
  }
  if (name === '') return 'missing metric name';
  // value, optional timestamp, optional OpenMetrics exemplar
  const rest = s.slice(i);
  const hash = rest.indexOf(' #');
  const tokens = (hash >= 0 ? rest.slice(0, hash) : rest).trim().split(/[ \t]+/);
  if (rest.length > 0 && !/^[ \t]/.test(rest)) return `expected a space after ${name}`;
  if (tokens.length === 0 || tokens[0] === '') return `missing value for ${name}`;
  if (tokens.length > 2) return `unexpected text after the timestamp: "${tokens.slice(2).join(' ').slice(0, 40)}"`;
  const value = parseValue(tokens[0]!);
  if (value === undefined) return { code: 'bad_value', reason: `invalid value "${tokens[0]!.slice(0, 40)}" for ${name}` };
  const out: Parsed = { name, labels, value };
  if (tokens[1] !== undefined) {
    const t = tokens[1];
    const n = openMetrics ? (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t) ? Number(t) * 1000 : NaN) : /^-?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isFinite(n) || Math.abs(n) > 8.64e15) {
      return {
        code: 'bad_timestamp',
        reason: `invalid timestamp "${t.slice(0, 40)}" for ${name} (${openMetrics ? 'seconds' : 'integer milliseconds'})`,
      };
    }
    out.tsMs = Math.floor(n);
  }
  return out;
}

/** A float as Prometheus writes it: decimal, exponent, NaN, +Inf, -Inf. */
export function parseValue(t: string): number | undefined {
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Reads a double-quoted string starting at `s[start]`, unescaping `\\`, `\"` and `\n`. */
function readQuoted(s: string, start: number): { value: string; end: number } | string {
  let out = '';
  let i = start + 1;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '"') return { value: out, end: i + 1 };
    if (ch === '\\') {
      const next = s[i + 1];
      if (next === 'n') out += '\n';
      else if (next === '\\' || next === '"') out += next;
      else if (next === undefined) return 'unterminated string';
      else out += `\\${next}`;
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
  return 'unterminated string';
}
