import { describe, expect, it } from 'vitest';
import { FINITE, NON_NEGATIVE, POSITIVE, checkNumbers, withDefaults } from './options.ts';

describe('detector options', () => {
  it('withDefaults lays the set options over the defaults; undefined keeps the default; the defaults are not touched', () => {
    const defaults = Object.freeze({ a: 1, b: 2, c: 3 });
    const o = withDefaults(defaults, { a: 10, b: undefined });
    expect(o).toEqual({ a: 10, b: 2, c: 3 });
    expect(defaults).toEqual({ a: 1, b: 2, c: 3 });
  });

  it.each([
    [POSITIVE, 0, 'stage option k must be a positive number, got 0'],
    [NON_NEGATIVE, -1, 'stage option k must be a non-negative number, got -1'],
    [FINITE, Number.NaN, 'stage option k must be a finite number, got NaN'],
    [FINITE, Infinity, 'stage option k must be a finite number, got Infinity'],
    [POSITIVE, '3', 'stage option k must be a positive number, got 3'],
  ])('checkNumbers names stage, option and value (%#)', (rule, v, message) => {
    expect(() => checkNumbers('stage', { k: v as number }, ['k'], rule)).toThrow(new RangeError(message));
  });

  it('checkNumbers passes good values and stops at the first bad key', () => {
    expect(() => checkNumbers('s', { a: 1, b: 0 }, ['a', 'b'], NON_NEGATIVE)).not.toThrow();
    expect(() => checkNumbers('s', { a: -1, b: -2 }, ['a', 'b'], NON_NEGATIVE)).toThrow(/option a /);
  });
});
