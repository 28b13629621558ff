/**
 * The field mapping of pull sources: dotted paths, times in every form a database or an API sends
 * them, numbers from text, and rows that become points or rejects with the reason.
 */
import { describe, expect, it } from 'vitest';
import type { FieldMapping } from '../../config/types.ts';
import { createRowMapper, readField, toNumber, toTimeMs } from './mapping.ts';

const NOW = Date.UTC(2024, 2, 7, 12, 0, 0);

describe('readField', () => {
  const item = { a: { b: [{ c: 3 }] }, 'x.y': 1 };
  it.each<[string, boolean, unknown]>([
    ['a.b.0.c', true, 3],
    ['a.b.1.c', true, undefined],
    ['a.missing.c', true, undefined],
    ['a.b.c', true, undefined],
    ['x.y', false, 1],
    ['x.y', true, undefined],
  ])('%s (dotted %s) -> %s', (path, dotted, want) => {
    expect(readField(item, path, dotted)).toEqual(want);
  });
});

describe('toTimeMs', () => {
  const ms = Date.UTC(2024, 2, 7, 10, 15, 0, 123);
  it.each<[string, unknown, 'ms' | 's', boolean, number | RegExp]>([
    ['postgres timestamptz text', '2024-03-07 10:15:00.123456+00', 'ms', true, ms],
    ['postgres timestamptz with an offset', '2024-03-07 11:15:00.123+01', 'ms', true, ms],
    ['postgres timestamptz with a half-hour offset', '2024-03-07 15:45:00.123+05:30', 'ms', true, ms],
    ['postgres timestamp without zone, read as utc', '2024-03-07 10:15:00.123', 'ms', true, ms],
    ['the same, where a zone is required', '2024-03-07T10:15:00.123', 'ms', false, /has no time zone/],
    ['postgres date', '2024-03-07', 'ms', true, Date.UTC(2024, 2, 7)],
    ['iso 8601', '2024-03-07T10:15:00.123Z', 'ms', false, ms],
    ['epoch ms number', ms, 'ms', false, ms],
    ['epoch seconds number', ms / 1000, 's', false, ms],
    ['epoch ms as text (bigint column)', String(ms), 'ms', false, ms],
    ['a Date', new Date(ms), 'ms', false, ms],
    ['garbage text', 'yesterday', 'ms', false, /is not an iso 8601 instant/],
    ['a boolean', true, 'ms', false, /must be a number or a timestamp/],
    ['out of range', 1e17, 'ms', false, /out of range/],
    ['postgres infinity', 'infinity', 'ms', true, /out of range|not an iso/],
  ])('%s', (_name, v, unit, utc, want) => {
    const got = toTimeMs(v, unit, utc);
    if (typeof want === 'number') expect(got).toBe(want);
    else expect(got).toMatch(want);
  });
});

describe('toNumber', () => {
  it.each<[unknown, number | undefined]>([
    [1.5, 1.5],
    ['42', 42],
    [' -1e3 ', -1000],
    ['9007199254740993', 9007199254740992],
    [10n, 10],
    [true, 1],
    ['NaN', NaN],
    ['-Infinity', -Infinity],
    ['12 apples', undefined],
    [null, undefined],
    [{}, undefined],
  ])('%s -> %s', (v, want) => {
    expect(toNumber(v)).toEqual(want);
  });
});

describe('createRowMapper', () => {
  const long: FieldMapping = {
    account: { from: 'account' },
    time: 'ts',
    timeUnit: 'ms',
    values: [{ metric: { from: 'metric' }, value: 'value' }],
  };
  const wide: FieldMapping = {
    account: { from: 'customer.id' },
    time: 'period.end',
    timeUnit: 's',
    values: [
      { metric: { fixed: 'api_calls' }, value: 'usage.calls' },
      { metric: { fixed: 'storage_gb' }, value: 'usage.gb' },
    ],
  };
  const fixedAccount: FieldMapping = {
    account: { fixed: 'acme' },
    timeUnit: 'ms',
    values: [{ metric: { fixed: 'queue_depth' }, value: 'depth' }],
  };

  it.each<[string, FieldMapping, boolean, unknown, Array<[string, string, number, number]>, Array<[string, RegExp]>]>([
    ['long row', long, false, { account: 'acme', metric: 'api_calls', ts: 1000, value: '5' }, [['acme', 'api_calls', 1000, 5]], []],
    ['numeric account id', long, false, { account: 42, metric: 'api_calls', ts: 1000, value: 5 }, [['42', 'api_calls', 1000, 5]], []],
    [
      'missing account rejects the row',
      long,
      false,
      { metric: 'api_calls', ts: 1000, value: 5 },
      [],
      [['missing_account', /account field "account" is missing/]],
    ],
    ['empty metric', long, false, { account: 'acme', metric: ' ', ts: 1000, value: 5 }, [], [['missing_metric', /not a non-empty string/]]],
    ['null time', long, false, { account: 'acme', metric: 'm', ts: null, value: 5 }, [], [['bad_timestamp', /time field "ts" is null/]]],
    [
      'null value in a long row is a reject',
      long,
      false,
      { account: 'acme', metric: 'm', ts: 1, value: null },
      [],
      [['bad_value', /value field "value" of m is not a number \(null\)/]],
    ],
    ['infinite value', long, false, { account: 'acme', metric: 'm', ts: 1, value: 'Infinity' }, [], [['non_finite', /is Infinity/]]],
    [
      'wide item: one point per value, dotted paths, seconds',
      wide,
      true,
      { customer: { id: 'acme' }, period: { end: 1700000000 }, usage: { calls: 10, gb: 2.5 } },
      [
        ['acme', 'api_calls', 1700000000000, 10],
        ['acme', 'storage_gb', 1700000000000, 2.5],
      ],
      [],
    ],
    [
      'wide item: a missing value is "not measured", a bad one rejects only that point',
      wide,
      true,
      { customer: { id: 'acme' }, period: { end: 1700000000 }, usage: { calls: 'many' } },
      [],
      [['bad_value', /value field "usage.calls" of api_calls is not a number \("many"\)/]],
    ],
    ['fixed account, no time field: the pull time', fixedAccount, false, { depth: 7 }, [['acme', 'queue_depth', NOW, 7]], []],
  ])('%s', (_name, mapping, dotted, row, points, errors) => {
    const got = createRowMapper(mapping, { dotted, zonelessIsUtc: true })(row, NOW);
    expect(got.points.map((p) => [p.account, p.metric, p.tsMs, p.value])).toEqual(points);
    expect(got.errors.map((e) => e.code)).toEqual(errors.map(([code]) => code));
    got.errors.forEach((e, i) => expect(e.reason).toMatch(errors[i]![1]));
  });
});
