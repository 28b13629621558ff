/**
 * Detector state, in memory and as bytes.
 *
 * In memory: each detector keeps its whole state in ONE plain array of doubles (a
 * {@link DetectorState}), every algorithm of it reading and writing its own slots (at an offset
 * fixed per factory), so a series costs one small object and one array: no object, header or
 * boxed double per stage. A plain array of doubles (PACKED_DOUBLE_ELEMENTS in V8) rather than
 * an ArrayBuffer with typed-array views: it is 48 bytes of overhead against ~90 for an
 * ArrayBuffer and ~100 per view, and it lives wholly on the JS heap (an ArrayBuffer's backing
 * store also costs C++ bookkeeping that `process.memoryUsage()` does not count: ~300 bytes more
 * resident memory per Float32Array of 144 values than its heap figure, measured on Node 20).
 * Where float32 precision is enough, two float32 values can share a double, bit for bit (the
 * seasonal baseline's buckets do). The array's length is fixed at creation: writing past it would
 * grow it, and writing anything but a number would box every element.
 *
 * As bytes: every snapshot starts with a 4-byte header (magic "FW", a kind byte, a format version
 * byte) so that bytes written by one detector are never silently read by another; the body is
 * little-endian numbers written field by field. Float32/Float64 values are copied bit for bit, so
 * a restored detector continues exactly where the original left off.
 */

/** The state of one detector: plain doubles, slots laid out per factory. */
export type DetectorState = number[];

/**
 * Heap of a state array on top of 8 bytes per slot: the array object (32) and the header of its
 * backing store (16), V8 on Node 20, 64-bit, no pointer compression.
 */
export const STATE_ARRAY_OVERHEAD_BYTES = 48;
/**
 * Heap of a detector object holding three references (its shared model, its state array and its
 * reusable result): a 24-byte header and three fields (V8's instance size for it; `detect.bench.ts`
 * prints the measured total beside `stateBytes`).
 */
export const DETECTOR_OBJECT_BYTES = 48;

/** heap of a detector object and its state array of `slots` doubles */
export function detectorHeapBytes(slots: number): number {
  return DETECTOR_OBJECT_BYTES + STATE_ARRAY_OVERHEAD_BYTES + 8 * slots;
}

/**
 * A state array of `slots` zeros, built so that V8 stores it as unboxed doubles; copy it with
 * `slice()` (which keeps the element kind and allocates exactly `slots` doubles).
 */
export function zeroState(slots: number): DetectorState {
  const s: DetectorState = [];
  // 0.5 makes the elements doubles (0 would make them small integers until the first double
  // arrives, and each copy would then convert itself on its first update)
  for (let i = 0; i < slots; i++) s.push(0.5);
  return s.fill(0);
}

/** writes `count` slots of `s` from `at` as float64 (no header): a stage's state as it is */
export function writeSlots(w: SnapshotWriter, s: DetectorState, at: number, count: number): void {
  for (let i = 0; i < count; i++) w.f64(s[at + i] as number);
}

/** reads `count` float64 written by {@link writeSlots} into `s` from `at` */
export function readSlots(r: SnapshotReader, s: DetectorState, at: number, count: number): void {
  for (let i = 0; i < count; i++) s[at + i] = r.f64();
}

/** First two bytes of every detector snapshot: "FW". */
export const SNAPSHOT_MAGIC_0 = 0x46;
/** Second magic byte. */
export const SNAPSHOT_MAGIC_1 = 0x57;
/** Bytes taken by the header (magic, kind, version). */
export const SNAPSHOT_HEADER_BYTES = 4;

/** Which detector wrote a snapshot. */
export const SnapshotKind = {
  seasonal: 1,
  drift: 2,
  combined: 3,
  onset: 4,
} as const;
/** The kind byte of a snapshot header. */
export type SnapshotKind = (typeof SnapshotKind)[keyof typeof SnapshotKind];

/** The error thrown when snapshot bytes cannot be restored (restore is not on the hot path). */
export class SnapshotError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

/** Writes a snapshot into a buffer of known size; every write advances the cursor. */
export class SnapshotWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos = 0;

  /** `bodyBytes` excludes the header, which is written here. */
  constructor(kind: SnapshotKind, version: number, bodyBytes: number) {
    this.bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + bodyBytes);
    this.view = new DataView(this.bytes.buffer);
    this.u8(SNAPSHOT_MAGIC_0);
    this.u8(SNAPSHOT_MAGIC_1);
    this.u8(kind);
    this.u8(version);
  }

  u8(value: number): void {
    this.view.setUint8(this.pos, value);
    this.pos += 1;
  }

  u32(value: number): void {
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  f64(value: number): void {
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  f32(value: number): void {
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  f64Array(values: Float64Array): void {
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat64(this.pos, values[i] as number, true);
      this.pos += 8;
    }
  }

  f32Array(values: Float32Array): void {
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat32(this.pos, values[i] as number, true);
      this.pos += 4;
    }
  }

  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** the finished bytes; throws if the declared size was not filled exactly (a programming error) */
  finish(): Uint8Array {
    if (this.pos !== this.bytes.length) {
      throw new Error(`snapshot writer filled ${this.pos} of ${this.bytes.length} bytes`);
    }
    return this.bytes;
  }
}

/** Reads a snapshot written by {@link SnapshotWriter}, checking the header and every length. */
export class SnapshotReader {
  private readonly view: DataView;
  private pos = SNAPSHOT_HEADER_BYTES;
  /** format version found in the header */
  readonly version: number;

  /** throws {@link SnapshotError} when the header is not `kind` or the version is unknown */
  constructor(
    private readonly bytes: Uint8Array,
    kind: SnapshotKind,
    supportedVersions: readonly number[],
    private readonly what: string,
  ) {
    if (bytes.length < SNAPSHOT_HEADER_BYTES) {
      throw new SnapshotError(`invalid ${what} snapshot: ${bytes.length} bytes is shorter than the header`);
    }
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes[0] !== SNAPSHOT_MAGIC_0 || bytes[1] !== SNAPSHOT_MAGIC_1) {
      throw new SnapshotError(`invalid ${what} snapshot: bad magic bytes`);
    }
    if (bytes[2] !== kind) {
      throw new SnapshotError(`invalid ${what} snapshot: written by detector kind ${String(bytes[2])}, expected ${kind}`);
    }
    this.version = bytes[3] as number;
    if (!supportedVersions.includes(this.version)) {
      throw new SnapshotError(`invalid ${what} snapshot: unsupported format version ${this.version}`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new SnapshotError(`invalid ${this.what} snapshot: truncated at byte ${this.pos} (needs ${n} more)`);
    }
  }

  u8(): number {
    this.need(1);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64Array(into: Float64Array): void {
    this.need(into.length * 8);
    for (let i = 0; i < into.length; i++) {
      into[i] = this.view.getFloat64(this.pos, true);
      this.pos += 8;
    }
  }

  f32Array(into: Float32Array): void {
    this.need(into.length * 4);
    for (let i = 0; i < into.length; i++) {
      into[i] = this.view.getFloat32(this.pos, true);
      this.pos += 4;
    }
  }

  /** a view (no copy) of the next `n` bytes */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** throws when bytes are left over (a snapshot of another shape) */
  end(): void {
    if (this.pos !== this.bytes.length) {
      throw new SnapshotError(`invalid ${this.what} snapshot: ${this.bytes.length - this.pos} unexpected trailing bytes`);
    }
  }
}
