/**
 * InfluxDB line protocol parser, accepting what InfluxDB 2 accepts on `POST /api/v2/write`:
 *
 *     measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Each numeric field of a line becomes one `Point` (`metric` = `<measurement>_<field>`, booleans
 * as 1/0); string fields are skipped and counted; the account comes from the account tag.
 * A malformed line becomes one `LineError` and the rest of the body is still parsed.
 *
 * Semantics, following the InfluxDB 2 parser (`models/points.go`) where it matters:
 * - escapes: in the measurement `\,` and `\ `; in tag keys, tag values and field keys `\,`, `\=`
 *   and `\ `. A special character preceded by a backslash is escaped (so `\\ ` is a backslash and
 *   an escaped space, which is what the official clients emit); every other backslash is literal.
 * - string field values are double-quoted, with `\"` and `\\` escapes; like InfluxDB 2 they may
 *   contain raw newlines (the official clients send them unescaped). A string with no closing
 *   quote before the end of the body is an error for its line only: parsing resumes on the next
 *   line (InfluxDB would swallow the rest of the body).
 * - floats (`1`, `-1.5`, `.5`, `1e3`, `-1.5E-3`), integers `12i` (int64 range), unsigned `12u`
 *   (uint64 range), booleans `t T true True TRUE f F false False FALSE`. Integers beyond 2^53
 *   lose precision (values are JS numbers).
 * - timestamps are integers in the request precision (ns, us, ms, s), at most ±9223372036854775806
 *   ns. They are converted to ms exactly (digit by digit, no floating point), rounding towards
 *   minus infinity (`Math.floor` semantics: 1999999 ns -> 1 ms, -1 ns -> -1 ms). A line without
 *   a timestamp gets `defaultTimeMs`, truncated to the second for precision `s` as InfluxDB does.
 * - `#` comment lines, blank lines, leading whitespace, CRLF line ends and trailing spaces/tabs
 *   are accepted; tabs are also accepted between the field set and the timestamp.
 * - a backslash never escapes a newline (InfluxDB would join the two lines).
 * - duplicate tag keys make the line invalid, as in InfluxDB.
 * - after a bad line, parsing resumes after the first newline following the error (so a newline
 *   inside a string field further along a bad line may yield a second error).
 * - a line is all or nothing: one bad field rejects all the fields of its line, as in InfluxDB.
 *
 * Speed: one pass over the body with `charCodeAt`, no regular expressions, no per-line `split`;
 * floats and integers of up to 15 digits are read without `Number()`; metric names and accounts
 * are cached per body and copied out of the body (see `detach`) so points never pin it in memory.
 */
import type { Point } from '../domain/types.ts';
import { ERROR_TEXT_MAX_CHARS } from './parse-result.ts';
import type { LineError, ParseErrorCode, ParseResult } from './parse-result.ts';

/** Timestamp precision of a write (`?precision=` of `/api/v2/write`). */
export type Precision = 'ns' | 'us' | 'ms' | 's';

/** True when `value` is a supported precision name. */
export function isPrecision(value: unknown): value is Precision {
  return value === 'ns' || value === 'us' || value === 'ms' || value === 's';
}

/** Options of `parseLineProtocol`. */
export interface LineProtocolOptions {
  /** precision of the timestamps in the body */
  precision: Precision;
  /** tag carrying the account id (default `account`); it is removed from the point's tags */
  accountTag?: string;
  /** event time (ms) of lines without a timestamp, usually the server's clock */
  defaultTimeMs: number;
  /** keep the other tags in `Point.tags` (default false: faster, less memory) */
  keepTags?: boolean;
}

const TAB = 9;
const NL = 10;
const CR = 13;
const SP = 32;
const QUOTE = 34;
const HASH = 35;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const EQ = 61;
const UPPER_E = 69;
const BSL = 92;
const LOWER_E = 101;
const LOWER_I = 105;
const LOWER_U = 117;

/** largest |timestamp| per precision: InfluxDB's ±9223372036854775806 ns, divided (truncating) */
const MAX_TS_DIGITS: Record<Precision, string> = {
  ns: '9223372036854775806',
  us: '9223372036854775',
  ms: '9223372036854',
  s: '9223372036',
};
/** digits dropped to get ms (ns: 6, us: 3) */
const DROP_DIGITS: Record<Precision, number> = { ns: 6, us: 3, ms: 0, s: 0 };
/** exact powers of ten for the fast float path */
const POW10: readonly number[] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const MAX_INT64 = '9223372036854775807';
const MIN_INT64_ABS = '9223372036854775808';
const MAX_UINT64 = '18446744073709551615';

/**
 * Parses an InfluxDB line protocol body into points (one per numeric field), never throwing on
 * bad data: each malformed line yields one error and the valid lines are kept.
 */
export function parseLineProtocol(body: string, options: LineProtocolOptions): ParseResult {
  const parser = new LineParser(body, options);
  parser.run();
  return {
    points: parser.points,
    lines: parser.lines,
    errors: parser.errors,
    skippedStringFields: parser.skippedStringFields,
  };
}

/**
 * Copies a string so it does not keep the whole request body alive (V8 represents slices of 13+
 * characters as views into their parent string).
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Removes the backslash of `\,`, `\ ` (and `\=` when `withEquals`). */
function unescapeName(raw: string, withEquals: boolean): string {
  let out = '';
  let from = 0;
  const last = raw.length - 1;
  for (let k = 0; k < last; k++) {
    if (raw.charCodeAt(k) !== BSL) continue;
    const n = raw.charCodeAt(k + 1);
    if (n === COMMA || n === SP || (withEquals && n === EQ)) {
      out += raw.slice(from, k);
      from = k + 1;
      k++;
    }
  }
  return from === 0 ? raw : out + raw.slice(from);
}

/** Quotes a piece of input for an error reason, shortened. */
function quote(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s);
}

function isNonFiniteWord(s: string): boolean {
  const w = s.toLowerCase().replace(/^[+-]/, '');
  return w === 'nan' || w === 'inf' || w === 'infinity';
}

/** Adds a tag to a plain object, also when the key is `__proto__`. */
function setTag(tags: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    tags[key] = value;
  }
}

/** number of measurement cache slots (a power of two) */
const MEASUREMENT_SLOTS = 64;

/** A measurement seen in the body, with the metric names of its field keys. */
interface MeasurementEntry {
  /** as written (escaped) */
  raw: string;
  /** unescaped */
  name: string;
  /** field key (as written) and metric name at each position of the measurement's last line */
  keyRaw: string[];
  metric: string[];
  /** metric name by field key (as written) */
  byKey: Map<string, string>;
}

/** One parse of one body. A class so that the hot loop works on fields, without closures. */
class LineParser {
  readonly points: Point[] = [];
  readonly lines: number[] = [];
  readonly errors: LineError[] = [];
  skippedStringFields = 0;

  private readonly body: string;
  private readonly len: number;
  private readonly accountTag: string;
  private readonly keepTags: boolean;
  private readonly maxTsDigits: string;
  private readonly dropDigits: number;
  private readonly tsScale: number;
  private readonly defaultTsMs: number;

  /** physical line number (1-based) of the current position */
  private lineNo = 1;

  // per-line scratch, reused across lines
  private readonly fieldMetrics: string[] = [];
  private readonly fieldValues: number[] = [];
  private readonly tagKeyStarts: number[] = [];
  private readonly tagKeyEnds: number[] = [];

  // measurements seen, by a hash of their raw text (direct-mapped, verified by comparison):
  // a body usually interleaves a handful of measurements, each with the same field keys
  private readonly measurements: Array<MeasurementEntry | undefined> = new Array<MeasurementEntry | undefined>(MEASUREMENT_SLOTS).fill(
    undefined,
  );
  // the account of the previous line: consecutive lines usually share it
  private prevAccountRaw = '';
  private prevAccount = '';
  /** detached, deduplicated copies of the strings put in points */
  private readonly interned = new Map<string, string>();

  constructor(body: string, options: LineProtocolOptions) {
    this.body = body;
    this.len = body.length;
    this.accountTag = options.accountTag ?? 'account';
    this.keepTags = options.keepTags ?? false;
    this.maxTsDigits = MAX_TS_DIGITS[options.precision];
    this.dropDigits = DROP_DIGITS[options.precision];
    this.tsScale = options.precision === 's' ? 1000 : 1;
    const d = Math.floor(options.defaultTimeMs);
    this.defaultTsMs = options.precision === 's' ? Math.floor(d / 1000) * 1000 : d;
  }

  run(): void {
    const body = this.body;
    const len = this.len;
    let i = 0;
    while (i < len) {
      let c = body.charCodeAt(i);
      if (c === NL) {
        i++;
        this.lineNo++;
        continue;
      }
      while (c === SP || c === TAB || c === CR) {
        i++;
        c = i < len ? body.charCodeAt(i) : NL;
      }
      if (c === NL) continue; // blank line: the newline is handled above
      if (c === HASH) {
        const nl = body.indexOf('\n', i);
        if (nl < 0) break;
        i = nl + 1;
        this.lineNo++;
        continue;
      }
      i = this.parseLine(i);
    }
  }

  /** true when the CR at `i` ends the line (CRLF, or CR at the end of the body) */
  private crEndsLine(i: number): boolean {
    return i + 1 >= this.len || this.body.charCodeAt(i + 1) === NL;
  }

  /** true when position `i` ends a field value (comma, blank, line end) */
  private endsToken(i: number): boolean {
    if (i >= this.len) return true;
    const d = this.body.charCodeAt(i);
    return d === COMMA || d === SP || d === TAB || d === NL || (d === CR && this.crEndsLine(i));
  }

  /**
   * Records an error for the line starting at `start` and returns where the next line starts:
   * after the first newline at or after `pos`.
   */
  private fail(start: number, startLine: number, pos: number, code: ParseErrorCode, reason: string): number {
    const body = this.body;
    const nl = body.indexOf('\n', pos);
    let end = nl < 0 ? this.len : nl;
    if (end > start && body.charCodeAt(end - 1) === CR) end--;
    const text = body.slice(start, Math.min(end, start + ERROR_TEXT_MAX_CHARS));
    this.errors.push({ line: startLine, code, reason, text });
    if (nl < 0) return this.len;
    this.lineNo++;
    return nl + 1;
  }

  /** set by `scanKey`: the key it scanned holds a backslash */
  private keyEscaped = false;

  /**
   * Scans a tag or field key starting at `i` (escapes `\,`, `\=`, `\ `) and returns where it
   * stops: at the `=` that ends it, or at a comma, space or line end (the key has no value).
   */
  private scanKey(i: number): number {
    const body = this.body;
    const len = this.len;
    let escaped = false;
    for (;;) {
      const c = i < len ? body.charCodeAt(i) : NL;
      if (c === EQ || c === COMMA || c === SP || c === NL || (c === CR && this.crEndsLine(i))) break;
      if (c === BSL) {
        escaped = true;
        const n = body.charCodeAt(i + 1);
        if (n === COMMA || n === SP || n === EQ) {
          i += 2;
          continue;
        }
      }
      i++;
    }
    this.keyEscaped = escaped;
    return i;
  }

  private name(start: number, end: number, escaped: boolean, withEquals: boolean): string {
    const raw = this.body.slice(start, end);
    return escaped ? unescapeName(raw, withEquals) : raw;
  }

  private intern(s: string): string {
    let v = this.interned.get(s);
    if (v === undefined) {
      v = detach(s);
      this.interned.set(v, v);
    }
    return v;
  }

  /** Parses the line whose first non-blank character is at `start`; returns the next line's start. */
  private parseLine(start: number): number {
    const body = this.body;
    const len = this.len;
    const startLine = this.lineNo;
    let i = start;
    let c = body.charCodeAt(i);
    if (c === COMMA) return this.fail(start, startLine, i, 'syntax', 'missing measurement');

    // ---- measurement
    let escaped = false;
    let hash = 0;
    for (;;) {
      if (i >= len) return this.fail(start, startLine, i, 'syntax', 'missing field set');
      c = body.charCodeAt(i);
      if (c === COMMA || c === SP) break;
      if (c === NL || (c === CR && this.crEndsLine(i))) {
        return this.fail(start, startLine, i, 'syntax', 'missing field set');
      }
      if (c === BSL) {
        escaped = true;
        const n = body.charCodeAt(i + 1);
        if (n === COMMA || n === SP) {
          i += 2;
          continue;
        }
      }
      hash = (hash * 31 + c) | 0;
      i++;
    }
    const slot = hash & (MEASUREMENT_SLOTS - 1);
    let measurement = this.measurements[slot];
    if (measurement === undefined || measurement.raw.length !== i - start || !body.startsWith(measurement.raw, start)) {
      const raw = body.slice(start, i);
      measurement = { raw, name: escaped ? unescapeName(raw, false) : raw, keyRaw: [], metric: [], byKey: new Map() };
      this.measurements[slot] = measurement;
    }

    // ---- tags
    let account: string | undefined;
    const tags: Record<string, string> | undefined = this.keepTags ? {} : undefined;
    if (c === COMMA) {
      i++;
      let nTags = 0;
      for (;;) {
        const kStart = i;
        c = i < len ? body.charCodeAt(i) : NL;
        if (c === SP || c === COMMA || c === EQ || c === NL || (c === CR && this.crEndsLine(i))) {
          return this.fail(start, startLine, i, 'syntax', 'missing tag key');
        }
        const kEnd = this.scanKey(i);
        const kEscaped = this.keyEscaped;
        if (body.charCodeAt(kEnd) !== EQ) {
          const key = this.name(kStart, kEnd, kEscaped, true);
          return this.fail(start, startLine, kEnd, 'syntax', `missing tag value for ${quote(key)}`);
        }
        i = kEnd + 1;
        const vStart = i;
        let vEscaped = false;
        c = i < len ? body.charCodeAt(i) : NL;
        if (c === COMMA || c === SP || c === NL || (c === CR && this.crEndsLine(i))) {
          const key = this.name(kStart, kEnd, kEscaped, true);
          return this.fail(start, startLine, i, 'syntax', `missing tag value for ${quote(key)}`);
        }
        for (;;) {
          c = i < len ? body.charCodeAt(i) : NL;
          if (c === COMMA || c === SP) break;
          if (c === EQ) {
            const key = this.name(kStart, kEnd, kEscaped, true);
            return this.fail(start, startLine, i, 'syntax', `invalid tag value for ${quote(key)}: unescaped "="`);
          }
          if (c === NL || (c === CR && this.crEndsLine(i))) {
            return this.fail(start, startLine, i, 'syntax', 'missing field set');
          }
          if (c === BSL) {
            vEscaped = true;
            const n = body.charCodeAt(i + 1);
            if (n === COMMA || n === SP || n === EQ) {
              i += 2;
              continue;
            }
          }
          i++;
        }
        const vEnd = i;

        // duplicate keys (compared as written)
        const kLen = kEnd - kStart;
        for (let t = 0; t < nTags; t++) {
          const s = this.tagKeyStarts[t]!;
          if (this.tagKeyEnds[t]! - s !== kLen) continue;
          let k = 0;
          while (k < kLen && body.charCodeAt(s + k) === body.charCodeAt(kStart + k)) k++;
          if (k === kLen) {
            const key = this.name(kStart, kEnd, kEscaped, true);
            return this.fail(start, startLine, kStart, 'syntax', `duplicate tag ${quote(key)}`);
          }
        }
        this.tagKeyStarts[nTags] = kStart;
        this.tagKeyEnds[nTags] = kEnd;
        nTags++;

        const isAccount = kEscaped
          ? this.name(kStart, kEnd, true, true) === this.accountTag
          : kLen === this.accountTag.length && body.startsWith(this.accountTag, kStart);
        if (isAccount) {
          const vLen = vEnd - vStart;
          if (vLen === this.prevAccountRaw.length && body.startsWith(this.prevAccountRaw, vStart)) {
            account = this.prevAccount;
          } else {
            this.prevAccountRaw = body.slice(vStart, vEnd);
            account = this.intern(vEscaped ? unescapeName(this.prevAccountRaw, true) : this.prevAccountRaw);
            this.prevAccount = account;
          }
        } else if (tags !== undefined) {
          const key = this.intern(this.name(kStart, kEnd, kEscaped, true));
          setTag(tags, key, this.intern(this.name(vStart, vEnd, vEscaped, true)));
        }
        if (c === SP) break;
        i++;
      }
    }

    // ---- field set (c is the space after the key)
    i++;
    c = i < len ? body.charCodeAt(i) : NL;
    while (c === SP || c === TAB) {
      i++;
      c = i < len ? body.charCodeAt(i) : NL;
    }
    if (c === NL || (c === CR && this.crEndsLine(i))) {
      return this.fail(start, startLine, i, 'syntax', 'missing field set');
    }
    let nFields = 0;
    let nStrings = 0;
    let fieldIndex = 0;
    for (; ; fieldIndex++) {
      const kStart = i;
      c = i < len ? body.charCodeAt(i) : NL;
      if (c === EQ || c === COMMA || c === SP || c === TAB || c === NL || (c === CR && this.crEndsLine(i))) {
        return this.fail(start, startLine, i, 'syntax', 'missing field key');
      }
      const kEnd = this.scanKey(i);
      const kEscaped = this.keyEscaped;
      if (body.charCodeAt(kEnd) !== EQ) {
        const key = this.name(kStart, kEnd, kEscaped, true);
        return this.fail(start, startLine, kEnd, 'syntax', `missing field value for ${quote(key)}`);
      }
      i = kEnd + 1;
      const vStart = i;
      c = i < len ? body.charCodeAt(i) : NL;

      if (c === QUOTE) {
        // string value: skipped, but scanned to find where it ends (it may hold , = space newline)
        let j = i + 1;
        let newlines = 0;
        for (;;) {
          if (j >= len) {
            const key = this.name(kStart, kEnd, kEscaped, true);
            return this.fail(start, startLine, vStart, 'syntax', `unterminated string value for ${quote(key)}`);
          }
          const d = body.charCodeAt(j);
          if (d === QUOTE) break;
          if (d === BSL) {
            if (body.charCodeAt(j + 1) === NL) newlines++;
            j += 2;
            continue;
          }
          if (d === NL) newlines++;
          j++;
        }
        this.lineNo += newlines;
        i = j + 1;
        c = i < len ? body.charCodeAt(i) : NL;
        if (c !== COMMA && c !== SP && c !== TAB && c !== NL && !(c === CR && this.crEndsLine(i))) {
          const key = this.name(kStart, kEnd, kEscaped, true);
          return this.fail(start, startLine, i, 'syntax', `invalid field value for ${quote(key)}: text after the closing quote`);
        }
        nStrings++;
      } else {
        // number or boolean: the token runs to the next comma, blank or line end
        let value: number;
        let j = i;
        if ((c >= ZERO && c <= NINE) || c === DOT || c === MINUS) {
          // fast path for -?digits[.digits] and -?digits(i|u) with at most 15 digits: exact, since
          // the mantissa and the power of ten are exact doubles and division rounds correctly
          const negative = c === MINUS;
          if (negative) j++;
          let mantissa = 0;
          let digits = 0;
          let fractionDigits = -1; // -1: no decimal point yet
          let simple = true; // -?digits[.digits] so far
          let plain = true; // only characters of a float literal
          let suffix = 0;
          for (;;) {
            const d = j < len ? body.charCodeAt(j) : NL;
            if (d >= ZERO && d <= NINE) {
              mantissa = mantissa * 10 + (d - ZERO);
              digits++;
              if (fractionDigits >= 0) fractionDigits++;
              j++;
              continue;
            }
            if (d === COMMA || d === SP || d === TAB || d === NL) break;
            if (d === CR && this.crEndsLine(j)) break;
            if (d === DOT && fractionDigits < 0) {
              fractionDigits = 0;
              j++;
              continue;
            }
            if ((d === LOWER_I || d === LOWER_U) && this.endsToken(j + 1)) {
              suffix = d;
              j++;
              break;
            }
            simple = false;
            if (d !== DOT && d !== MINUS && d !== LOWER_E && d !== UPPER_E && d !== PLUS) plain = false;
            j++;
          }
          if (simple && digits > 0 && digits <= 15 && (suffix === 0 || (fractionDigits < 0 && !(negative && suffix === LOWER_U)))) {
            value = fractionDigits > 0 ? mantissa / POW10[fractionDigits]! : mantissa;
            if (negative) value = -value;
          } else if (suffix !== 0 || !plain) {
            value = this.integer(vStart, j);
          } else {
            value = Number(body.slice(vStart, j));
          }
          if (value !== value || value === Infinity || value === -Infinity) {
            const key = this.name(kStart, kEnd, kEscaped, true);
            const token = body.slice(vStart, j);
            if (value === value || isNonFiniteWord(token)) {
              return this.fail(start, startLine, vStart, 'non_finite', `non-finite value for ${quote(key)}: ${quote(token)}`);
            }
            return this.fail(start, startLine, vStart, 'bad_value', this.badNumberReason(key, token));
          }
        } else {
          for (;;) {
            const d = j < len ? body.charCodeAt(j) : NL;
            if (d === COMMA || d === SP || d === TAB || d === NL) break;
            if (d === CR && this.crEndsLine(j)) break;
            j++;
          }
          if (j === vStart) {
            const key = this.name(kStart, kEnd, kEscaped, true);
            return this.fail(start, startLine, i, 'syntax', `missing field value for ${quote(key)}`);
          }
          value = this.boolean(vStart, j);
          if (value !== value) {
            const key = this.name(kStart, kEnd, kEscaped, true);
            const token = body.slice(vStart, j);
            if (isNonFiniteWord(token)) {
              return this.fail(start, startLine, vStart, 'non_finite', `non-finite value for ${quote(key)}: ${quote(token)}`);
            }
            return this.fail(start, startLine, vStart, 'bad_value', `invalid field value for ${quote(key)}: ${quote(token)}`);
          }
        }
        const vEnd = j;

        // metric name: usually the key at this position is the same as in the measurement's last line
        let metric: string;
        const raw = measurement.keyRaw[fieldIndex];
        if (raw !== undefined && raw.length === kEnd - kStart && body.startsWith(raw, kStart)) {
          metric = measurement.metric[fieldIndex]!;
        } else {
          const keyRaw = body.slice(kStart, kEnd);
          let known = measurement.byKey.get(keyRaw);
          if (known === undefined) {
            known = this.intern(`${measurement.name}_${kEscaped ? unescapeName(keyRaw, true) : keyRaw}`);
            measurement.byKey.set(keyRaw, known);
          }
          metric = known;
          measurement.keyRaw[fieldIndex] = keyRaw;
          measurement.metric[fieldIndex] = metric;
        }
        this.fieldMetrics[nFields] = metric;
        this.fieldValues[nFields] = value;
        nFields++;
        i = vEnd;
        c = i < len ? body.charCodeAt(i) : NL;
      }
      if (c !== COMMA) break;
      i++;
    }

    // ---- timestamp (c is a blank or the line end)
    while (c === SP || c === TAB) {
      i++;
      c = i < len ? body.charCodeAt(i) : NL;
    }
    let tsMs = this.defaultTsMs;
    if (c !== NL && !(c === CR && this.crEndsLine(i))) {
      const tsStart = i;
      while (c !== SP && c !== TAB && c !== NL && !(c === CR && this.crEndsLine(i))) {
        i++;
        c = i < len ? body.charCodeAt(i) : NL;
      }
      tsMs = this.timestamp(tsStart, i);
      if (tsMs !== tsMs) {
        const token = body.slice(tsStart, i);
        const reason = this.tsOutOfRange ? `timestamp out of range ${quote(token)}` : `invalid timestamp ${quote(token)}`;
        return this.fail(start, startLine, tsStart, 'bad_timestamp', reason);
      }
      while (c === SP || c === TAB) {
        i++;
        c = i < len ? body.charCodeAt(i) : NL;
      }
      if (c !== NL && !(c === CR && this.crEndsLine(i))) {
        let e = i;
        while (e < len && body.charCodeAt(e) !== NL) e++;
        return this.fail(start, startLine, i, 'syntax', `unexpected text after the timestamp: ${quote(body.slice(i, e))}`);
      }
    }

    if (account === undefined) {
      return this.fail(start, startLine, i, 'missing_account', `missing account tag ${quote(this.accountTag)}`);
    }

    // ---- emit
    const points = this.points;
    const lines = this.lines;
    for (let f = 0; f < nFields; f++) {
      const metric = this.fieldMetrics[f]!;
      const value = this.fieldValues[f]!;
      points.push(tags === undefined ? { account, metric, tsMs, value } : { account, metric, tsMs, value, tags });
      lines.push(startLine);
    }
    this.skippedStringFields += nStrings;

    if (c === CR) i++;
    if (i >= len) return len;
    this.lineNo++;
    return i + 1;
  }

  /** Value of an `i`/`u` integer token, or NaN when it is not one. */
  private integer(start: number, end: number): number {
    const body = this.body;
    const suffix = body.charCodeAt(end - 1);
    if (suffix !== LOWER_I && suffix !== LOWER_U) return NaN;
    const negative = body.charCodeAt(start) === MINUS;
    if (negative && suffix === LOWER_U) return NaN;
    let p = negative ? start + 1 : start;
    const digitsEnd = end - 1;
    if (p === digitsEnd) return NaN;
    for (let k = p; k < digitsEnd; k++) {
      const d = body.charCodeAt(k);
      if (d < ZERO || d > NINE) return NaN;
    }
    while (p < digitsEnd - 1 && body.charCodeAt(p) === ZERO) p++;
    const max = suffix === LOWER_U ? MAX_UINT64 : negative ? MIN_INT64_ABS : MAX_INT64;
    const n = digitsEnd - p;
    if (n > max.length || (n === max.length && body.slice(p, digitsEnd) > max)) {
      this.intOutOfRange = true;
      return NaN;
    }
    return Number(body.slice(start, digitsEnd));
  }

  /** set by `integer` when it returns NaN for a number out of range */
  private intOutOfRange = false;

  private badNumberReason(key: string, token: string): string {
    if (this.intOutOfRange) {
      this.intOutOfRange = false;
      return `integer out of range for ${quote(key)}: ${quote(token)}`;
    }
    return `invalid field value for ${quote(key)}: ${quote(token)}`;
  }

  /** 1 / 0 for a boolean token, NaN otherwise. */
  private boolean(start: number, end: number): number {
    const body = this.body;
    const c = body.charCodeAt(start);
    switch (end - start) {
      case 1:
        return c === 116 || c === 84 ? 1 : c === 102 || c === 70 ? 0 : NaN; // t T f F
      case 4:
        return body.startsWith('true', start) || body.startsWith('True', start) || body.startsWith('TRUE', start) ? 1 : NaN;
      case 5:
        return body.startsWith('false', start) || body.startsWith('False', start) || body.startsWith('FALSE', start) ? 0 : NaN;
      default:
        return NaN;
    }
  }

  /** set by `timestamp` when it returns NaN for a timestamp out of range */
  private tsOutOfRange = false;

  /**
   * Converts an integer timestamp token to ms, exactly and rounding towards minus infinity;
   * NaN when it is not an integer or out of range.
   */
  private timestamp(start: number, end: number): number {
    const body = this.body;
    this.tsOutOfRange = false;
    const negative = body.charCodeAt(start) === MINUS;
    let p = negative ? start + 1 : start;
    if (p === end) return NaN;
    while (p < end - 1 && body.charCodeAt(p) === ZERO) p++;
    const max = this.maxTsDigits;
    const n = end - p;
    if (n > max.length) {
      for (let k = p; k < end; k++) {
        const d = body.charCodeAt(k);
        if (d < ZERO || d > NINE) return NaN;
      }
      this.tsOutOfRange = true;
      return NaN;
    }
    // at most 13 digits are kept, so the arithmetic is exact; the dropped ones only matter when
    // negative (rounding towards minus infinity)
    const keepEnd = Math.max(p, end - this.dropDigits);
    let ms = 0;
    let k = p;
    for (; k < keepEnd; k++) {
      const d = body.charCodeAt(k) - ZERO;
      if (d < 0 || d > 9) return NaN;
      ms = ms * 10 + d;
    }
    let remainder = false;
    for (; k < end; k++) {
      const d = body.charCodeAt(k) - ZERO;
      if (d < 0 || d > 9) return NaN;
      if (d !== 0) remainder = true;
    }
    if (n === max.length && body.charCodeAt(p) === NINE && body.slice(p, end) > max) {
      this.tsOutOfRange = true;
      return NaN;
    }
    ms *= this.tsScale;
    if (!negative) return ms;
    ms = -ms - (remainder ? 1 : 0);
    return ms === 0 ? 0 : ms;
  }
}
