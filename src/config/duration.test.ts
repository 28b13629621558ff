import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['15m', 15 * M],
    ['4h', 4 * H],
    ['2d', 2 * D],
    ['1h30m', H + 30 * M],
    ['1d12h', D + 12 * H],
    ['90s', 90 * S],
    ['250ms', 250],
    ['1m500ms', M + 500],
    ['1w', 7 * D],
    ['0s', 0],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['15', 'missing unit'],
    ['900', 'missing unit'],
    ['15 minutes', ''],
    ['', 'empty'],
    ['1.5h', ''],
    ['30m1h', 'units must go from largest to smallest, each at most once'],
    ['1h1h', 'units must go from largest to smallest, each at most once'],
    ['h', ''],
    ['-5m', ''],
    [' 5m', ''],
    ['5M', ''],
    ['5m ', ''],
  ])('rejects %j', (text, why) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
    expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)} (${why ? `${why}; ` : ''}use e.g. 15m, 4h, 2d)`);
  });

  it('rejects a duration too large to be exact', () => {
    expect(() => parseDuration('99999999999999w')).toThrow(/too large/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [15 * M, '15m'],
    [H + 30 * M, '1h30m'],
    [2 * D, '2d'],
    [14 * D, '14d'],
    [M + 500, '1m500ms'],
  ])('writes %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['15m', '4h', '2d', '1h30m', '1d12h', '250ms'])('round-trips %s', (text) => {
    expect(parseDuration(formatDuration(parseDuration(text)))).toBe(parseDuration(text));
  });
});
