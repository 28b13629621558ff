/**
 * Binary layouts of the embedded time-series store.
 *
 * - A segment is one `write()` call as it arrived: `n` points of any series, column-wise
 *   (Float64 timestamps, Float64 values, Int32 series ids). It is the write-ahead log.
 * - A chunk is a sorted, duplicate-free run of one series. Timestamps are stored as Float64 or,
 *   when they are whole milliseconds spanning less than 2^32 ms (~49 days), as a Float64 base plus
 *   Uint32 offsets; values as Float32 when every value survives the round trip exactly, else Float64.
 *   Integer-valued telemetry thus costs 8 bytes a point instead of 16, and nothing is ever rounded.
 *
 * Every section starts 8-byte aligned so decoding uses typed-array views, not per-element reads.
 */

const SEGMENT_VERSION = 1;
const CHUNK_VERSION = 1;
const HEADER_BYTES = 8;
const FLAG_TS_OFFSETS = 1;
const FLAG_VALUES_F32 = 2;
const MAX_U32 = 0xffff_ffff;

/** A segment being filled: write the columns, then store `bytes`. */
export interface SegmentBuffer {
  bytes: Buffer;
  tsMs: Float64Array;
  values: Float64Array;
  seriesIds: Int32Array;
}

/** The columns of a decoded segment or chunk (views, valid while the source bytes are). */
export interface DecodedSegment {
  tsMs: Float64Array;
  values: Float64Array;
  seriesIds: Int32Array;
}

/** A decoded chunk: sorted, duplicate-free timestamps and their values. */
export interface DecodedChunk {
  tsMs: Float64Array;
  values: Float64Array;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Gives an 8-byte aligned view of `bytes`, copying only when the source is misaligned. */
function aligned(bytes: Uint8Array): Uint8Array {
  if ((bytes.byteOffset & 7) === 0) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

function header(bytes: Uint8Array, what: string): { version: number; flags: number; n: number } {
  if (bytes.byteLength < HEADER_BYTES) throw new Error(`${what} is truncated: ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  return { version: view.getUint8(0), flags: view.getUint8(1), n: view.getUint32(4, true) };
}

/** Allocates a segment of `n` points whose columns the caller fills in place. */
export function allocSegment(n: number): SegmentBuffer {
  const ab = new ArrayBuffer(HEADER_BYTES + n * 20);
  const view = new DataView(ab, 0, HEADER_BYTES);
  view.setUint8(0, SEGMENT_VERSION);
  view.setUint32(4, n, true);
  return {
    bytes: Buffer.from(ab),
    tsMs: new Float64Array(ab, HEADER_BYTES, n),
    values: new Float64Array(ab, HEADER_BYTES + n * 8, n),
    seriesIds: new Int32Array(ab, HEADER_BYTES + n * 16, n),
  };
}

/** Decodes a segment written by {@link allocSegment}; throws on a foreign or truncated blob. */
export function decodeSegment(blob: Uint8Array): DecodedSegment {
  const bytes = aligned(blob);
  const { version, n } = header(bytes, 'segment');
  if (version !== SEGMENT_VERSION) throw new Error(`segment has unknown format version ${version}`);
  if (bytes.byteLength !== HEADER_BYTES + n * 20) {
    throw new Error(`segment of ${n} points has ${bytes.byteLength} bytes, expected ${HEADER_BYTES + n * 20}`);
  }
  const base = bytes.byteOffset + HEADER_BYTES;
  return {
    tsMs: new Float64Array(bytes.buffer, base, n),
    values: new Float64Array(bytes.buffer, base + n * 8, n),
    seriesIds: new Int32Array(bytes.buffer, base + n * 16, n),
  };
}

/**
 * Encodes `tsMs[from..to)` / `values[from..to)` (sorted, duplicate-free, finite) as one chunk,
 * choosing the smallest lossless layout.
 */
export function encodeChunk(tsMs: Float64Array, values: Float64Array, from = 0, to = tsMs.length): Buffer {
  const n = to - from;
  if (n <= 0) throw new Error('cannot encode an empty chunk');
  const first = tsMs[from]!;
  let tsOffsets = Number.isInteger(first) && tsMs[to - 1]! - first <= MAX_U32;
  let valuesF32 = true;
  for (let i = from; i < to && (tsOffsets || valuesF32); i++) {
    if (tsOffsets && !Number.isInteger(tsMs[i]!)) tsOffsets = false;
    const v = values[i]!;
    if (valuesF32 && Math.fround(v) !== v) valuesF32 = false;
  }
  const tsBytes = tsOffsets ? 8 + align8(n * 4) : n * 8;
  const valueBytes = valuesF32 ? align8(n * 4) : n * 8;
  const ab = new ArrayBuffer(HEADER_BYTES + tsBytes + valueBytes);
  const view = new DataView(ab, 0, HEADER_BYTES);
  view.setUint8(0, CHUNK_VERSION);
  view.setUint8(1, (tsOffsets ? FLAG_TS_OFFSETS : 0) | (valuesF32 ? FLAG_VALUES_F32 : 0));
  view.setUint32(4, n, true);
  if (tsOffsets) {
    new Float64Array(ab, HEADER_BYTES, 1)[0] = first;
    const offsets = new Uint32Array(ab, HEADER_BYTES + 8, n);
    for (let i = 0; i < n; i++) offsets[i] = tsMs[from + i]! - first;
  } else {
    new Float64Array(ab, HEADER_BYTES, n).set(tsMs.subarray(from, to));
  }
  const valuesAt = HEADER_BYTES + tsBytes;
  if (valuesF32) new Float32Array(ab, valuesAt, n).set(values.subarray(from, to));
  else new Float64Array(ab, valuesAt, n).set(values.subarray(from, to));
  return Buffer.from(ab);
}

/** Decodes a chunk written by {@link encodeChunk} into fresh Float64 arrays. */
export function decodeChunk(blob: Uint8Array): DecodedChunk {
  const bytes = aligned(blob);
  const { version, flags, n } = header(bytes, 'chunk');
  if (version !== CHUNK_VERSION) throw new Error(`chunk has unknown format version ${version}`);
  const tsOffsets = (flags & FLAG_TS_OFFSETS) !== 0;
  const valuesF32 = (flags & FLAG_VALUES_F32) !== 0;
  const tsBytes = tsOffsets ? 8 + align8(n * 4) : n * 8;
  const valueBytes = valuesF32 ? align8(n * 4) : n * 8;
  if (bytes.byteLength !== HEADER_BYTES + tsBytes + valueBytes) {
    throw new Error(`chunk of ${n} points has ${bytes.byteLength} bytes, expected ${HEADER_BYTES + tsBytes + valueBytes}`);
  }
  const base = bytes.byteOffset + HEADER_BYTES;
  const tsMs = new Float64Array(n);
  if (tsOffsets) {
    const first = new Float64Array(bytes.buffer, base, 1)[0]!;
    const offsets = new Uint32Array(bytes.buffer, base + 8, n);
    for (let i = 0; i < n; i++) tsMs[i] = first + offsets[i]!;
  } else {
    tsMs.set(new Float64Array(bytes.buffer, base, n));
  }
  const values = new Float64Array(n);
  if (valuesF32) values.set(new Float32Array(bytes.buffer, base + tsBytes, n));
  else values.set(new Float64Array(bytes.buffer, base + tsBytes, n));
  return { tsMs, values };
}
