/**
 * Line protocol as Forewarn writes it: escaping of names, floats (with -0), one line per account
 * and timestamp, what cannot be written, and PromQL literals.
 */
import { describe, expect, it } from 'vitest';
import type { Point } from '../../domain/types.ts';
import {
  createLineCache,
  escapeKey,
  escapeMeasurement,
  formatFloat,
  formatLine,
  formatPoints,
  promString,
  regexLiteral,
  unwritableReason,
} from './line-format.ts';

const pt = (account: string, metric: string, tsMs: number, value: number): Point => ({ account, metric, tsMs, value });

describe('escaping', () => {
  it.each([
    ['plain', 'plain'],
    ['a b', 'a\\ b'],
    ['a,b', 'a\\,b'],
    ['a=b', 'a\\=b'],
    ['a\\', 'a\\\\'],
    ['a/b:c@d', 'a/b:c@d'],
  ])('tag/field key %j -> %j', (raw, escaped) => {
    expect(escapeKey(raw)).toBe(escaped);
  });

  it('measurements escape commas and spaces but not equals signs', () => {
    expect(escapeMeasurement('a b,c=d')).toBe('a\\ b\\,c=d');
  });

  it.each([
    [0.1, '0.1'],
    [-0, '-0'],
    [0, '0'],
    [2 ** 53, '9007199254740992'],
    [1e-300, '1e-300'],
    [-123456.789, '-123456.789'],
  ])('float %d -> %s', (v, text) => {
    expect(formatFloat(v)).toBe(text);
  });
});

describe('formatPoints', () => {
  it('puts the points of one account and timestamp on one line, in order', () => {
    const text = formatPoints(
      'usage',
      [
        pt('acme', 'api_requests', 1000, 10),
        pt('acme', 'api_errors', 1000, 1),
        pt('globex', 'api_requests', 1000, 5),
        pt('acme', 'api_requests', 2000, 11),
      ],
      createLineCache(),
    );
    expect(text.split('\n')).toEqual([
      'usage,account=acme api_requests=10,api_errors=1 1000',
      'usage,account=globex api_requests=5 1000',
      'usage,account=acme api_requests=11 2000',
    ]);
  });

  it('starts a new line for a repeated metric (a duplicate), so both values reach the server in order', () => {
    expect(formatPoints('usage', [pt('a', 'm', 10, 1), pt('a', 'm', 10, 9)], createLineCache())).toBe(
      'usage,account=a m=1 10\nusage,account=a m=9 10',
    );
  });

  it('escapes accounts and metrics and rounds fractional milliseconds', () => {
    expect(formatPoints('usage', [pt('a b', 'x,y=z', 10.4, 1)], createLineCache())).toBe('usage,account=a\\ b x\\,y\\=z=1 10');
  });

  it('gives no text for no points', () => {
    expect(formatPoints('usage', [], createLineCache())).toBe('');
  });
});

describe('unwritableReason', () => {
  it.each([
    { p: pt('a', 'm', 1, 1), why: undefined },
    { p: pt('a', 'm', NaN, 1), why: /non-finite timestamp/ },
    { p: pt('a', 'm', 10, Infinity), why: /non-finite value/ },
    { p: pt('a', 'm', 0, 1), why: /before 1970/ },
    { p: pt('a', 'm', -5, 1), why: /before 1970/ },
    { p: pt('a\nb', 'm', 10, 1), why: /account/ },
    { p: pt('a', '', 10, 1), why: /metric/ },
    { p: pt('a', 'm\r', 10, 1), why: /metric/ },
  ])('$p.account/$p.metric at $p.tsMs = $p.value: $why', ({ p, why }) => {
    const r = unwritableReason(p);
    if (why === undefined) expect(r).toBeUndefined();
    else expect(r).toMatch(why);
  });
});

describe('formatLine', () => {
  it('skips empty tags and non-finite fields', () => {
    expect(
      formatLine(
        'm',
        [
          ['a', 'x'],
          ['b', ''],
        ],
        [
          ['f', 1],
          ['g', NaN],
        ],
        5,
      ),
    ).toBe('m,a=x f=1 5');
  });

  it('gives nothing without a finite field or a valid time', () => {
    expect(formatLine('m', [], [['f', NaN]], 5)).toBeUndefined();
    expect(formatLine('m', [], [['f', 1]], 0)).toBeUndefined();
  });
});

describe('PromQL literals', () => {
  it('quotes strings and escapes regex metacharacters', () => {
    expect(promString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(regexLiteral('c1.usage+(x)')).toBe('c1\\.usage\\+\\(x\\)');
  });
});
