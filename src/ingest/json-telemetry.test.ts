import { describe, expect, it } from 'vitest';
import { parseIsoInstant, parseJsonTelemetry } from './json-telemetry.ts';
import type { JsonTelemetryOptions } from './json-telemetry.ts';
import type { ParseErrorCode } from './parse-result.ts';

const NOW_MS = 1_700_000_123_456;

function parse(body: unknown, options: Partial<JsonTelemetryOptions> = {}) {
  return parseJsonTelemetry(body, { defaultTimeMs: NOW_MS, ...options });
}

describe('parseJsonTelemetry: valid items', () => {
  it('turns each item into a point, in order, with its item number', () => {
    const r = parse([
      { account: 'acme', metric: 'api_errors', ts: 1_700_000_000_000, value: 3 },
      { account: 'globex', metric: 'latency_ms', ts: '2023-11-14T22:13:20Z', value: 12.5 },
    ]);
    expect(r).toEqual({
      points: [
        { account: 'acme', metric: 'api_errors', tsMs: 1_700_000_000_000, value: 3 },
        { account: 'globex', metric: 'latency_ms', tsMs: 1_700_000_000_000, value: 12.5 },
      ],
      lines: [1, 2],
      errors: [],
      skippedStringFields: 0,
    });
  });

  it.each<[string, unknown, number]>([
    ['number of ms', 1_700_000_000_123, 1_700_000_000_123],
    ['fractional ms rounded down', 1_700_000_000_123.9, 1_700_000_000_123],
    ['negative ms', -1.5, -2],
    ['missing: the default time', undefined, NOW_MS],
    ['ISO with Z', '2023-11-14T22:13:20Z', 1_700_000_000_000],
    ['ISO with milliseconds', '2023-11-14T22:13:20.123Z', 1_700_000_000_123],
    ['ISO with microseconds, rounded down', '2023-11-14T22:13:20.123999Z', 1_700_000_000_123],
    ['ISO with one fraction digit', '2023-11-14T22:13:20.5Z', 1_700_000_000_500],
    ['ISO with a positive offset', '2023-11-14T23:13:20+01:00', 1_700_000_000_000],
    ['ISO with a negative offset without colon', '2023-11-14T16:43:20-0530', 1_700_000_000_000],
    ['ISO without seconds', '2023-11-14T22:13Z', 1_699_999_980_000],
    ['ISO lower-case t and z', '2023-11-14t22:13:20z', 1_700_000_000_000],
    ['ISO with a space (RFC 3339)', '2023-11-14 22:13:20Z', 1_700_000_000_000],
    ['ISO date: midnight UTC', '2023-11-14', 1_699_920_000_000],
    ['ISO leap day', '2024-02-29T00:00:00Z', 1_709_164_800_000],
  ])('ts as %s', (_name, ts, tsMs) => {
    const r = parse([{ account: 'a', metric: 'm', ts, value: 1 }]);
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => p.tsMs)).toEqual([tsMs]);
  });

  it('keeps tags only with keepTags, as a copy', () => {
    const tags = { region: 'eu', host: 'h1' };
    const item = { account: 'a', metric: 'm', value: 1, tags };
    const kept = parse([item], { keepTags: true });
    expect(kept.points).toEqual([{ account: 'a', metric: 'm', tsMs: NOW_MS, value: 1, tags }]);
    expect(kept.points[0]!.tags).not.toBe(tags);
    const dropped = parse([item]);
    expect('tags' in dropped.points[0]!).toBe(false);
  });

  it('accepts an empty array', () => {
    expect(parse([])).toEqual({ points: [], lines: [], errors: [], skippedStringFields: 0 });
  });
});

describe('parseJsonTelemetry: errors', () => {
  it.each<[string, unknown]>([
    ['body must be a json array of points, got object', { account: 'a', metric: 'm', value: 1 }],
    ['body must be a json array of points, got null', null],
    ['body must be a json array of points, got string "x"', 'x'],
    ['body must be a json array of points, got number 5', 5],
    ['body must be a json array of points, got undefined', undefined],
  ])('a body that is not an array is one error: %s', (reason, body) => {
    const r = parse(body);
    expect(r.points).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 0, code: 'syntax', reason });
  });

  const ok = { account: 'a', metric: 'm', value: 1 };
  it.each<[string, unknown, ParseErrorCode, string]>([
    ['null item', null, 'syntax', 'must be an object, got null'],
    ['array item', [1, 2], 'syntax', 'must be an object, got array'],
    ['number item', 7, 'syntax', 'must be an object, got number 7'],
    ['unknown key', { ...ok, timestamp: 5 }, 'syntax', 'unknown key "timestamp" (expected account, metric, ts, value, tags)'],
    ['missing account', { metric: 'm', value: 1 }, 'missing_account', '"account" must be a non-empty string'],
    ['empty account', { ...ok, account: '' }, 'missing_account', '"account" must be a non-empty string'],
    ['numeric account', { ...ok, account: 42 }, 'missing_account', '"account" must be a non-empty string'],
    ['missing metric', { account: 'a', value: 1 }, 'missing_metric', '"metric" must be a non-empty string'],
    ['empty metric', { ...ok, metric: '' }, 'missing_metric', '"metric" must be a non-empty string'],
    ['missing value', { account: 'a', metric: 'm' }, 'bad_value', '"value" must be a finite number, got undefined'],
    ['string value', { ...ok, value: '12' }, 'bad_value', '"value" must be a finite number, got string "12"'],
    ['null value', { ...ok, value: null }, 'bad_value', '"value" must be a finite number, got null'],
    ['boolean value', { ...ok, value: true }, 'bad_value', '"value" must be a finite number, got boolean true'],
    ['infinite value', { ...ok, value: Infinity }, 'non_finite', '"value" must be a finite number, got Infinity'],
    ['NaN value', { ...ok, value: NaN }, 'non_finite', '"value" must be a finite number, got NaN'],
    ['ts not ISO', { ...ok, ts: 'yesterday' }, 'bad_timestamp', '"ts" "yesterday" is not an iso 8601 instant (e.g. 2024-03-07T10:15:00Z)'],
    [
      'ts as a date-like string Date.parse accepts',
      { ...ok, ts: 'March 7, 2024' },
      'bad_timestamp',
      '"ts" "March 7, 2024" is not an iso 8601 instant (e.g. 2024-03-07T10:15:00Z)',
    ],
    [
      'ts as a numeric string',
      { ...ok, ts: '1700000000000' },
      'bad_timestamp',
      '"ts" "1700000000000" is not an iso 8601 instant (e.g. 2024-03-07T10:15:00Z)',
    ],
    [
      'ts without zone',
      { ...ok, ts: '2024-03-07T10:15:00' },
      'bad_timestamp',
      '"ts" "2024-03-07T10:15:00" has no time zone (add Z or an offset such as +01:00)',
    ],
    ['ts month 13', { ...ok, ts: '2024-13-01T00:00:00Z' }, 'bad_timestamp', '"ts" "2024-13-01T00:00:00Z" has an invalid month'],
    ['ts February 30', { ...ok, ts: '2024-02-30' }, 'bad_timestamp', '"ts" "2024-02-30" has an invalid day of the month'],
    [
      'ts February 29 of a common year',
      { ...ok, ts: '2023-02-29T00:00:00Z' },
      'bad_timestamp',
      '"ts" "2023-02-29T00:00:00Z" has an invalid day of the month',
    ],
    ['ts hour 24', { ...ok, ts: '2024-03-07T24:00:00Z' }, 'bad_timestamp', '"ts" "2024-03-07T24:00:00Z" has an invalid time of day'],
    [
      'ts offset minutes 60',
      { ...ok, ts: '2024-03-07T10:00:00+01:60' },
      'bad_timestamp',
      '"ts" "2024-03-07T10:00:00+01:60" has an invalid utc offset',
    ],
    ['ts infinite', { ...ok, ts: Infinity }, 'bad_timestamp', '"ts" must be a finite number of ms, got Infinity'],
    ['ts out of range', { ...ok, ts: 9e15 }, 'bad_timestamp', '"ts" 9000000000000000 is out of range (at most ±8.64e15 ms)'],
    ['ts null', { ...ok, ts: null }, 'bad_timestamp', '"ts" must be an iso 8601 string or a number of ms since the epoch, got null'],
    [
      'ts boolean',
      { ...ok, ts: true },
      'bad_timestamp',
      '"ts" must be an iso 8601 string or a number of ms since the epoch, got boolean true',
    ],
    ['tags array', { ...ok, tags: ['a'] }, 'syntax', '"tags" must be an object of strings, got array'],
    ['tags string', { ...ok, tags: 'a=b' }, 'syntax', '"tags" must be an object of strings, got string "a=b"'],
    ['tag value number', { ...ok, tags: { a: 'x', b: 2 } }, 'syntax', 'tag "b" must be a string, got number 2'],
  ])('%s', (_name, item, code, problem) => {
    const r = parse([ok, item, ok]);
    expect(r.errors).toEqual([{ line: 2, code, reason: `item 2: ${problem}`, text: expect.any(String) as string }]);
    expect(r.points).toHaveLength(2);
    expect(r.lines).toEqual([1, 3]);
  });

  it('shows the item, serialized, in the error text (non-finite numbers as they are)', () => {
    const r = parse(JSON.parse('[{"account":"a","metric":"m","value":1e400}]'));
    expect(r.errors).toEqual([
      {
        line: 1,
        code: 'non_finite',
        reason: 'item 1: "value" must be a finite number, got Infinity',
        text: '{"account":"a","metric":"m","value":"Infinity"}',
      },
    ]);
  });

  it('cuts the error text to 200 characters', () => {
    const r = parse([{ account: 'a', metric: 'x'.repeat(500), value: 'bad' }]);
    expect(r.errors[0]!.text).toHaveLength(200);
  });
});

describe('parseJsonTelemetry: a batch of good and bad items', () => {
  it('keeps the good items and reports the bad ones by item number', () => {
    const body: unknown = JSON.parse(
      JSON.stringify([
        { account: 'acme', metric: 'errors', ts: 1_700_000_000_000, value: 1 },
        { account: 'acme', metric: 'errors', ts: 'soon', value: 2 },
        { account: 'acme', metric: 'errors', value: 3 },
        { metric: 'errors', value: 4 },
        { account: 'globex', metric: 'latency', ts: '2023-11-14T22:13:21Z', value: 5 },
      ]),
    );
    const r = parse(body);
    expect(r.points).toEqual([
      { account: 'acme', metric: 'errors', tsMs: 1_700_000_000_000, value: 1 },
      { account: 'acme', metric: 'errors', tsMs: NOW_MS, value: 3 },
      { account: 'globex', metric: 'latency', tsMs: 1_700_000_001_000, value: 5 },
    ]);
    expect(r.lines).toEqual([1, 3, 5]);
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([
      [2, 'bad_timestamp'],
      [4, 'missing_account'],
    ]);
  });
});

describe('parseIsoInstant', () => {
  it.each<[string, number]>([
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59.999Z', -1],
    ['1970-01-01T00:00:00+00:00', 0],
    ['1970-01-01T01:00:00+01:00', 0],
  ])('%s -> %d', (s, ms) => {
    expect(parseIsoInstant(s)).toBe(ms);
  });

  it('keeps years 0-99 as written (Date.UTC would map 50 to 1950)', () => {
    const ms = parseIsoInstant('0050-06-01T00:00:00Z');
    expect(typeof ms).toBe('number');
    expect(new Date(ms as number).getUTCFullYear()).toBe(50);
  });
});
