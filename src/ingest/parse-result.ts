/**
 * What the ingest parsers (line protocol, JSON telemetry) return: the points they could read,
 * one error per rejected line or item, and counters. Parsers never throw on bad data: a bad line
 * becomes a `LineError` and the good lines of the same body are still returned.
 */
import type { Point } from '../domain/types.ts';

/**
 * Machine-readable reason a line (or JSON item) was rejected, for counting rejections by reason.
 *
 * - `syntax`: the line or item is malformed (structure, escaping, missing parts, duplicate tags,
 *   unknown JSON keys, a body that is not a JSON array)
 * - `bad_value`: a field value that is not a valid number or boolean (or an integer out of range)
 * - `non_finite`: a value that is NaN or ±Infinity (e.g. `1e400`)
 * - `bad_timestamp`: a timestamp that is not an integer / ISO 8601 instant, or is out of range
 * - `missing_account`: no account (tag or JSON key)
 * - `missing_metric`: no metric name (JSON)
 */
export type ParseErrorCode = 'syntax' | 'bad_value' | 'non_finite' | 'bad_timestamp' | 'missing_account' | 'missing_metric';

/** One rejected line (line protocol) or item (JSON). */
export interface LineError {
  /**
   * 1-based line number of the start of the rejected line (line protocol) or 1-based item number
   * (JSON, `index + 1`); 0 when the whole body is rejected.
   */
  line: number;
  code: ParseErrorCode;
  /** lower-case, specific, e.g. `invalid field value for "x": "abc"` */
  reason: string;
  /** the first 200 characters of the offending line (JSON: of the item, serialized) */
  text: string;
}

/** Output of a parser. */
export interface ParseResult {
  points: Point[];
  /** `lines[i]` is the 1-based source line (or item) number of `points[i]`, for error reports */
  lines: number[];
  errors: LineError[];
  /** string fields seen in valid lines; they are not numeric telemetry and are skipped silently */
  skippedStringFields: number;
}

/** Maximum length of `LineError.text`. */
export const ERROR_TEXT_MAX_CHARS = 200;
