import { describe, expect, it } from 'vitest';
import { SnapshotError, SnapshotKind, SnapshotReader, SnapshotWriter } from './snapshot.ts';

describe('snapshot encoding', () => {
  it('written=>read gives back every number bit for bit (-0, subnormals, extremes, float32 rounding)', () => {
    const f64 = new Float64Array([-0, Number.MIN_VALUE, Number.MAX_VALUE, 1.7e12 + 0.5, Math.PI, -1e-300]);
    const f32 = new Float32Array([-0, 1e-45, 3.4e38, 0.1, -123.456]);
    const w = new SnapshotWriter(SnapshotKind.drift, 7, 1 + 4 + 8 + f64.byteLength + f32.byteLength + 3);
    w.u8(200);
    w.u32(4_000_000_000);
    w.f64(-0);
    w.f64Array(f64);
    w.f32Array(f32);
    w.raw(new Uint8Array([1, 2, 3]));
    const bytes = w.finish();

    const r = new SnapshotReader(bytes, SnapshotKind.drift, [7], 'test');
    expect(r.version).toBe(7);
    expect(r.u8()).toBe(200);
    expect(r.u32()).toBe(4_000_000_000);
    expect(Object.is(r.f64(), -0)).toBe(true);
    const f64Back = new Float64Array(f64.length);
    r.f64Array(f64Back);
    const f32Back = new Float32Array(f32.length);
    r.f32Array(f32Back);
    expect(new Uint8Array(f64Back.buffer)).toEqual(new Uint8Array(f64.buffer));
    expect(new Uint8Array(f32Back.buffer)).toEqual(new Uint8Array(f32.buffer));
    expect([...r.raw(3)]).toEqual([1, 2, 3]);
    r.end();
  });

  it('reads a snapshot that sits inside a larger buffer (a subarray)', () => {
    const w = new SnapshotWriter(SnapshotKind.seasonal, 1, 8);
    w.f64(42.5);
    const inner = w.finish();
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    const r = new SnapshotReader(outer.subarray(5, 5 + inner.length), SnapshotKind.seasonal, [1], 'test');
    expect(r.f64()).toBe(42.5);
    r.end();
  });

  it('a writer that is not filled exactly is a programming error', () => {
    const w = new SnapshotWriter(SnapshotKind.seasonal, 1, 8);
    w.u32(1);
    expect(() => w.finish()).toThrow(/filled 8 of 12 bytes/);
  });

  it('reading past the end throws a SnapshotError naming the snapshot', () => {
    const w = new SnapshotWriter(SnapshotKind.combined, 1, 2);
    w.u8(1);
    w.u8(2);
    const r = new SnapshotReader(w.finish(), SnapshotKind.combined, [1], 'combined detector');
    expect(() => r.u32()).toThrow(SnapshotError);
    expect(() => r.u32()).toThrow(/invalid combined detector snapshot: truncated at byte 4/);
  });
});
