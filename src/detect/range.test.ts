import { describe, expect, it } from 'vitest';
import { RANGE_DEFAULTS, RANGE_SLOTS, RangeNoveltyModel, resolveRangeOptions } from './range.ts';
import type { RangeOptions } from './range.ts';

/** feeds values (level = the value itself unless given) and returns the verdict per point */
function run(values: readonly number[], options: RangeOptions = {}, levels?: readonly number[]): number[] {
  const model = new RangeNoveltyModel(resolveRangeOptions(options));
  const s = new Array<number>(RANGE_SLOTS + 2).fill(0);
  return values.map((v, i) => model.update(s, 2, v, levels?.[i] ?? v));
}

/** a sawtooth between 0 and 10 */
const saw = (n: number) => Array.from({ length: n }, (_, i) => i % 11);

describe('range novelty', () => {
  it('judges nothing during warm-up, however extreme', () => {
    const v = saw(50);
    v[30] = 1e6;
    v[40] = -1e6;
    expect(run(v, { warmupPoints: 50 }).every((x) => x === 0)).toBe(true);
  });

  it('flags a value beyond the range by more than the tolerance, up and down', () => {
    const base = saw(400);
    expect(run([...base, 10.4], { tolerance: 0.05 }).at(-1)).toBe(0); // within 5% of the 0..10 range
    expect(run([...base, 10.6], { tolerance: 0.05 }).at(-1)).toBe(1);
    expect(run([...base, -0.6], { tolerance: 0.05 }).at(-1)).toBe(-1);
    expect(run([...base, 10.6], { tolerance: 0.1 }).at(-1)).toBe(0);
  });

  it('flags a new extreme once: the range grows to include it', () => {
    const out = run([...saw(400), 20, 20, 19, 21]);
    expect(out.slice(-4)).toEqual([1, 0, 0, 0]); // 21 is within 5% of the new 0..20 range
  });

  it('flags a level above every earlier level even when no single value is new', () => {
    // values 0..10, recent level between 4 and 6; then values stay at 9: a level never seen
    const n = 400;
    const values = [...saw(n), 9, 9, 9];
    const levels = [...Array.from({ length: n }, (_, i) => 5 + (i % 2 === 0 ? 1 : -1)), 6.5, 7.5, 8.5];
    const out = run(values, {}, levels);
    expect(out.slice(-3)).toEqual([2, 2, 2]);
    // the same values with the level kept inside its range: nothing
    expect(run(values, {}, [...levels.slice(0, n), 6, 6, 6]).slice(-3)).toEqual([0, 0, 0]);
  });

  it('a value novelty is reported as such even when the level is novel too', () => {
    const levels = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 4 : 6));
    expect(run([...saw(400), 30], {}, [...levels, 30]).at(-1)).toBe(1);
    expect(run([...saw(400), -30], {}, [...levels, -30]).at(-1)).toBe(-1);
    expect(run([...saw(400), 5], {}, [...levels, -30]).at(-1)).toBe(-2);
  });

  it('ignores the level of the first levelSkipPoints points', () => {
    // an early level of 100 would widen the level range and hide the later level 8.5 if it were learned
    const n = 400;
    const levels: number[] = Array.from({ length: n + 1 }, (_, i) => (i < 10 ? 100 : i === n ? 8.5 : 5));
    levels[11] = 4;
    expect(run([...saw(n), 9], { levelSkipPoints: 10 }, levels).at(-1)).toBe(2);
    expect(run([...saw(n), 9], { levelSkipPoints: 5 }, levels).at(-1)).toBe(0);
  });

  it('says nothing for a constant series (no range to be outside of yet) until it moves', () => {
    const out = run([...Array.from({ length: 400 }, () => 3), 3, 4]);
    expect(out.slice(0, -1).every((x) => x === 0)).toBe(true);
    expect(out.at(-1)).toBe(0); // the first move makes the range; it cannot be judged against none
  });

  it('leaves the slots before its offset alone', () => {
    const model = new RangeNoveltyModel(resolveRangeOptions());
    const s = [7, 7, 0, 0, 0, 0, 0];
    for (let i = 1; i <= 50; i++) model.update(s, 2, i, i);
    expect(s.slice(0, 2)).toEqual([7, 7]);
    expect(s.slice(2)).toEqual([1, 50, 21, 50, 50]);
  });

  it('rejects bad options by name', () => {
    expect(() => resolveRangeOptions({ tolerance: -1 })).toThrow(/tolerance/);
    expect(() => resolveRangeOptions({ warmupPoints: Number.NaN })).toThrow(/warmupPoints/);
    expect(resolveRangeOptions({})).toEqual(RANGE_DEFAULTS);
  });
});
