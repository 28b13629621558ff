/** Chunk and segment layouts: the smallest lossless layout is chosen and everything round-trips bit for bit. */
import { describe, expect, it } from 'vitest';
import { allocSegment, decodeChunk, decodeSegment, encodeChunk } from './codec.ts';

const BASE = 1_700_000_000_000;

describe('chunk codec', () => {
  it.each([
    { layout: 'ms offsets + float32 values', ts: [BASE, BASE + 10_000, BASE + 20_000], values: [1, 2.5, -3], bytesPerPoint: 8 },
    { layout: 'ms offsets + float64 values', ts: [BASE, BASE + 1, BASE + 2], values: [0.1, 1e300, -0.3], bytesPerPoint: 12 },
    { layout: 'float64 ts (fractional ms) + float32 values', ts: [BASE + 0.5, BASE + 1], values: [1, 2], bytesPerPoint: 12 },
    { layout: 'float64 ts (span over 2^32 ms) + float32 values', ts: [0, 2 ** 32 + 1], values: [1, 2], bytesPerPoint: 12 },
    { layout: 'float64 ts + float64 values', ts: [-1.5, 3.25], values: [Math.PI, Number.MIN_VALUE], bytesPerPoint: 16 },
  ])('$layout round-trips exactly', ({ ts, values, bytesPerPoint }) => {
    const bytes = encodeChunk(Float64Array.from(ts), Float64Array.from(values));
    const decoded = decodeChunk(bytes);
    expect(Array.from(decoded.tsMs)).toEqual(ts);
    expect(Array.from(decoded.values)).toEqual(values);
    // header (8) + a float64 base for offsets; sections padded to 8 bytes
    expect(bytes.byteLength).toBeLessThanOrEqual(16 + ts.length * bytesPerPoint + 8);
    expect(bytes.byteLength).toBeGreaterThan(ts.length * bytesPerPoint);
  });

  it('encodes a slice of the input, and decodes from a misaligned buffer', () => {
    const ts = Float64Array.from([1, 2, 3, 4, 5]);
    const values = Float64Array.from([10, 20, 30, 40, 50]);
    const bytes = encodeChunk(ts, values, 1, 4);
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    const decoded = decodeChunk(shifted.subarray(3));
    expect(Array.from(decoded.tsMs)).toEqual([2, 3, 4]);
    expect(Array.from(decoded.values)).toEqual([20, 30, 40]);
  });

  it.each([
    { what: 'a truncated chunk', blob: () => encodeChunk(Float64Array.of(1, 2), Float64Array.of(1, 2)).subarray(0, 12), error: /expected/ },
    { what: 'a foreign blob', blob: () => new Uint8Array([9, 0, 0, 0, 1, 0, 0, 0]), error: /unknown format version 9/ },
    { what: 'a blob shorter than a header', blob: () => new Uint8Array(3), error: /truncated/ },
  ])('refuses $what', ({ blob, error }) => {
    expect(() => decodeChunk(blob())).toThrow(error);
  });
});

describe('segment codec', () => {
  it('round-trips the columns of a write', () => {
    const seg = allocSegment(3);
    seg.tsMs.set([BASE + 0.25, BASE, BASE - 5]);
    seg.values.set([NaN, -0, 1e-310]);
    seg.seriesIds.set([7, 1, 2 ** 31 - 1]);
    const decoded = decodeSegment(seg.bytes);
    expect(Array.from(decoded.tsMs)).toEqual([BASE + 0.25, BASE, BASE - 5]);
    expect(Array.from(decoded.values)).toEqual([NaN, -0, 1e-310]);
    expect(Array.from(decoded.seriesIds)).toEqual([7, 1, 2 ** 31 - 1]);
  });

  it('refuses a segment whose length does not match its header', () => {
    expect(() => decodeSegment(allocSegment(4).bytes.subarray(0, 40))).toThrow(/segment of 4 points has 40 bytes/);
  });
});
