import { describe, expect, it } from 'vitest';
import { readEwGaussian, writeEwGaussian } from './ew-gaussian.ts';
import { LEVEL_SHIFT_SLOTS, LevelShiftModel, resolveLevelShiftOptions } from './level-shift.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter, zeroState } from './snapshot.ts';

/** one series: its slots, its count and the model's last measures, the way the combined detector keeps them */
class LevelShift {
  readonly model = new LevelShiftModel(resolveLevelShiftOptions());
  readonly state = zeroState(LEVEL_SHIFT_SLOTS);
  count = 0;
  valueZ = 0;
  levelZ = 0;

  update(value: number): void {
    this.count += 1;
    this.model.update(this.state, 0, this.count, value);
    this.valueZ = this.model.valueZ;
    this.levelZ = this.model.levelZ;
  }
}

/** deterministic zero-mean noise in [-1, 1] */
function noise(i: number): number {
  return Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;
}

function learned(points = 2000, level = 100): LevelShift {
  const ls = new LevelShift();
  for (let i = 0; i < points; i++) ls.update(level + noise(i));
  return ls;
}

describe('level shift and long-run Gaussian', () => {
  it('normal=>normal: ordinary noise stays within a few sigmas on both measures', () => {
    const ls = learned();
    let maxValue = 0;
    let maxLevel = 0;
    for (let i = 2000; i < 2500; i++) {
      ls.update(100 + noise(i));
      maxValue = Math.max(maxValue, Math.abs(ls.valueZ));
      maxLevel = Math.max(maxLevel, Math.abs(ls.levelZ));
    }
    expect(maxValue).toBeLessThan(3);
    expect(maxLevel).toBeLessThan(2);
  });

  it.each([
    { name: 'spike up', at: 110, sign: 1 },
    { name: 'drop', at: 90, sign: -1 },
  ])('normal=>$name: valueZ is large and carries the sign', ({ at, sign }) => {
    const ls = learned();
    ls.update(at);
    expect(Math.sign(ls.valueZ)).toBe(sign);
    expect(Math.abs(ls.valueZ)).toBeGreaterThan(10);
  });

  it('normal=>level shift: levelZ grows over the next points while one spike moves it only a fifth as much', () => {
    const spike = learned();
    spike.update(104);
    const shift = learned();
    for (let i = 0; i < 5; i++) shift.update(104);
    expect(shift.levelZ).toBeGreaterThan(3 * spike.levelZ);
    expect(shift.levelZ).toBeGreaterThan(3);
  });

  it('a constant series divides by the tiny sigma floor, not by zero: any change is extreme but finite', () => {
    const ls = new LevelShift();
    for (let i = 0; i < 100; i++) ls.update(5);
    ls.update(6);
    expect(Number.isFinite(ls.valueZ)).toBe(true);
    expect(ls.valueZ).toBeGreaterThan(1e6);
  });

  it('the first point scores 0 on both measures', () => {
    const ls = new LevelShift();
    ls.update(1e9);
    expect([ls.valueZ, ls.levelZ]).toEqual([0, 0]);
  });

  it('snapshot=>restore continues exactly', () => {
    const a = learned(300);
    const w = new SnapshotWriter(SnapshotKind.combined, 1, 32);
    writeEwGaussian(w, a.state, 0, a.count);
    const b = new LevelShift();
    const r = new SnapshotReader(w.finish(), SnapshotKind.combined, [1], 'test');
    b.count = readEwGaussian(r, b.state, 0);
    r.end();
    for (const v of [100, 120, 99]) {
      a.update(v);
      b.update(v);
      expect([b.valueZ, b.levelZ]).toEqual([a.valueZ, a.levelZ]);
    }
  });

  it.each(['longPoints', 'recentPoints'] as const)('rejects a non-positive %s', (k) => {
    expect(() => resolveLevelShiftOptions({ [k]: -1 })).toThrow(new RegExp(`level shift option ${k}`));
  });
});
