/**
 * The spool: a local append-only log in front of a time-series server. A write is acknowledged
 * once its frame is appended and fdatasync'ed here; a background sender (influx-writer.ts) reads
 * frames from the cursor, sends them, and only then advances the cursor. If the server is slow
 * or down the spool grows; after a restart everything past the cursor is sent again.
 *
 * Layout in the spool folder:
 * - `seg-<12 digits>.log`: segments, appended in order. A new segment is started at every open
 *   and whenever the active one passes `segmentBytes`; segments wholly behind the cursor are deleted.
 * - `cursor`: `{"segment":n,"offset":bytes}`, replaced atomically (write + rename) after each
 *   delivery. It is not fsync'ed: after a crash a few batches may be sent twice (at-least-once;
 *   a re-sent point has the same series, timestamp and value).
 *
 * A frame is a 16-byte header (magic, payload length, CRC-32 of the payload, point count) and
 * the payload (line protocol, UTF-8). A torn frame at the end of a segment (a crash during an
 * append that was never acknowledged) ends that segment; a frame whose CRC does not match is
 * reported and the rest of its segment skipped.
 *
 * Concurrent appends are committed together (group commit): one write and one fdatasync for
 * everything queued while the previous commit ran.
 */
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';

/** A place in the spool: segment number and byte offset in it. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/** Options of {@link openSpool}. */
export interface SpoolOptions {
  /** the spool folder; created if missing */
  dir: string;
  /** a segment that reaches this size is closed and a new one started (default 64 MiB) */
  segmentBytes?: number;
  /** fdatasync durable appends before acknowledging them (default true; false only for tests and benchmarks) */
  fsync?: boolean;
  /** told about corrupt frames and files that could not be removed */
  onError?: (error: Error) => void;
}

/** Frames read from the spool, up to `end`. */
export interface SpoolBatch {
  /** frame payloads in append order (may be empty when only unreadable data was skipped) */
  payloads: Buffer[];
  points: number;
  bytes: number;
  /** the position just after the last frame (or skipped region) of this batch */
  end: SpoolPosition;
}

/** Spool counters, for /metrics, tests and benchmarks. */
export interface SpoolStats {
  /** bytes past the cursor (frames not yet delivered), headers included */
  pendingBytes: number;
  segments: number;
  appendedFrames: number;
  appendedPoints: number;
  /** frames found with a bad checksum (and the rest of their segment skipped) */
  corruptFrames: number;
  /** segments that ended in an incomplete frame (a crash during an unacknowledged append) */
  tornTails: number;
}

/** The spool of one writer. */
export interface Spool {
  readonly dir: string;
  /** appends one frame; resolves once it is on disk (fdatasync'ed when `durable`) */
  append(payload: Buffer, points: number, durable?: boolean): Promise<void>;
  /** frames from `from` onwards, at least one (if any) and about `maxBytes`; undefined when nothing is past `from` */
  read(from: SpoolPosition, maxBytes: number, maxFrames?: number): Promise<SpoolBatch | undefined>;
  /** marks everything before `end` delivered: moves the cursor and removes finished segments */
  ack(end: SpoolPosition): Promise<void>;
  /** the delivery cursor */
  cursor(): SpoolPosition;
  /** the position after every append queued so far, once they are on disk */
  end(): Promise<SpoolPosition>;
  /** resolves at the next committed append (or at close) */
  waitForAppend(): Promise<void>;
  stats(): SpoolStats;
  /** waits for queued appends, saves the cursor, closes the files; later appends are refused */
  close(): Promise<void>;
}

const MAGIC = 0x31535746; // "FWS1" little-endian
const HEADER_BYTES = 16;
const SEGMENT_RE = /^seg-(\d{12})\.log$/;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Orders spool positions. */
export function comparePositions(a: SpoolPosition, b: SpoolPosition): number {
  return a.segment !== b.segment ? a.segment - b.segment : a.offset - b.offset;
}

function segmentName(n: number): string {
  return `seg-${String(n).padStart(12, '0')}.log`;
}

function frameHeader(payload: Buffer, points: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(zlib.crc32(payload), 8);
  h.writeUInt32LE(Math.min(points, 0xffff_ffff), 12);
  return h;
}

function readCursor(file: string, onError: (e: Error) => void): SpoolPosition | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // a fresh spool
  }
  try {
    const c = JSON.parse(text) as Partial<SpoolPosition>;
    if (Number.isSafeInteger(c.segment) && Number.isSafeInteger(c.offset) && c.offset! >= 0)
      return { segment: c.segment!, offset: c.offset! };
  } catch {
    // reported below
  }
  onError(new Error(`spool: unreadable cursor file ${file}; resending everything in the spool`));
  return undefined;
}

interface Pending {
  header: Buffer;
  payload: Buffer;
  points: number;
  durable: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Opens (or creates) the spool in `options.dir`. Everything past the saved cursor is pending
 * again, and appends go to a new segment.
 */
export function openSpool(options: SpoolOptions): Spool {
  const dir = options.dir;
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const doSync = options.fsync ?? true;
  const onError = options.onError ?? ((e: Error) => console.error(`forewarn: ${e.message}`));
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`spool: cannot create the spool folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const cursorFile = path.join(dir, 'cursor');
  const file = (n: number) => path.join(dir, segmentName(n));

  // segment number -> size in bytes (committed bytes, for the active one)
  const sizes = new Map<number, number>();
  for (const name of fs.readdirSync(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m) sizes.set(Number(m[1]), fs.statSync(path.join(dir, name)).size);
  }
  const existing = [...sizes.keys()].sort((a, b) => a - b);
  const saved = readCursor(cursorFile, onError);
  // numbers only grow, even when every segment was delivered and removed: the cursor stays behind new data
  const activeSegment = Math.max(existing[existing.length - 1] ?? 0, saved?.segment ?? 0) + 1;
  let cursor = saved ?? { segment: existing[0] ?? activeSegment, offset: 0 };
  if (sizes.size > 0 && cursor.segment < existing[0]!) cursor = { segment: existing[0]!, offset: 0 };
  for (const n of existing) {
    if (n < cursor.segment) removeSegment(n);
  }

  let active = { segment: activeSegment, fd: openNew(activeSegment), size: 0 };
  sizes.set(activeSegment, 0);

  let queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let appendWaiters: Array<() => void> = [];
  let closed = false;
  let cursorWrite: Promise<void> = Promise.resolve();
  let reader: { segment: number; fh: FileHandle } | undefined;
  const stats = {
    appendedFrames: 0,
    appendedPoints: 0,
    corruptFrames: 0,
    tornTails: 0,
  };
  const reportedTorn = new Set<number>();

  function openNew(n: number): number {
    const fd = fs.openSync(file(n), 'wx');
    // the new file's name must survive a crash as well as its data
    try {
      const dfd = fs.openSync(dir, 'r');
      try {
        fs.fsyncSync(dfd);
      } finally {
        fs.closeSync(dfd);
      }
    } catch {
      // some filesystems cannot fsync a folder; the data itself is still synced
    }
    return fd;
  }

  function removeSegment(n: number): void {
    sizes.delete(n);
    try {
      fs.rmSync(file(n), { force: true });
    } catch (err) {
      onError(new Error(`spool: cannot remove delivered segment ${file(n)}: ${(err as Error).message}`, { cause: err }));
    }
  }

  const wakeAppendWaiters = () => {
    const w = appendWaiters;
    appendWaiters = [];
    for (const f of w) f();
  };

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      const buffers: Buffer[] = [];
      let bytes = 0;
      let durable = false;
      for (const g of group) {
        buffers.push(g.header, g.payload);
        bytes += g.header.length + g.payload.length;
        durable ||= g.durable;
      }
      const at = active.size;
      try {
        let written = 0;
        while (written < bytes) {
          // positional writes; a short write is continued from where it stopped
          const rest = written === 0 ? buffers : sliceBuffers(buffers, written);
          const n = await new Promise<number>((resolve, reject) =>
            fs.writev(active.fd, rest, at + written, (err, w) => (err ? reject(err) : resolve(w))),
          );
          if (n <= 0) throw new Error('the disk accepted no bytes');
          written += n;
        }
        if (durable && doSync)
          await new Promise<void>((resolve, reject) => fs.fdatasync(active.fd, (err) => (err ? reject(err) : resolve())));
      } catch (err) {
        // leave no partial frame behind: the next append would land after it
        try {
          fs.ftruncateSync(active.fd, at);
        } catch {
          // the reader stops at a torn frame anyway
        }
        const e = new Error(`spool: cannot append to ${file(active.segment)}: ${(err as Error).message}`, { cause: err });
        for (const g of group) g.reject(e);
        continue;
      }
      active.size = at + bytes;
      sizes.set(active.segment, active.size);
      for (const g of group) {
        stats.appendedFrames += 1;
        stats.appendedPoints += g.points;
        g.resolve();
      }
      if (active.size >= segmentBytes && !closed) rotate();
      wakeAppendWaiters();
    }
  }

  function rotate(): void {
    const next = active.segment + 1;
    try {
      const fd = openNew(next);
      fs.closeSync(active.fd);
      active = { segment: next, fd, size: 0 };
      sizes.set(next, 0);
    } catch (err) {
      // keep appending to the current segment; it only grows past segmentBytes
      onError(new Error(`spool: cannot start segment ${file(next)}: ${(err as Error).message}`, { cause: err }));
    }
  }

  function kick(): void {
    if (draining) return;
    draining = drain().finally(() => {
      draining = undefined;
      if (queue.length > 0) kick();
    });
  }

  async function idle(): Promise<void> {
    while (draining) await draining;
  }

  async function readerFor(segment: number): Promise<FileHandle> {
    if (reader?.segment === segment) return reader.fh;
    if (reader) await reader.fh.close().catch(() => undefined);
    reader = undefined;
    const fh = await fsp.open(file(segment), 'r');
    reader = { segment, fh };
    return fh;
  }

  /** committed bytes of a segment; for a segment read after a restart, its file size */
  const limitOf = (segment: number): number => sizes.get(segment) ?? 0;

  const nextSegment = (segment: number): number | undefined => {
    let best: number | undefined;
    for (const n of sizes.keys()) if (n > segment && (best === undefined || n < best)) best = n;
    return best;
  };

  return {
    dir,
    append(payload, points, durable = true) {
      if (closed) return Promise.reject(new Error(`spool: ${dir} is closed`));
      return new Promise<void>((resolve, reject) => {
        queue.push({
          header: frameHeader(payload, points),
          payload,
          points,
          durable,
          resolve,
          reject,
        });
        kick();
      });
    },

    async read(from, maxBytes, maxFrames = 10_000) {
      let pos = { ...from };
      const payloads: Buffer[] = [];
      let points = 0;
      let bytes = 0;
      while (bytes < maxBytes && payloads.length < maxFrames) {
        const limit = limitOf(pos.segment);
        if (!sizes.has(pos.segment) || pos.offset >= limit) {
          const next = pos.segment === active.segment ? undefined : nextSegment(pos.segment);
          if (next === undefined) break;
          pos = { segment: next, offset: 0 };
          continue;
        }
        const fh = await readerFor(pos.segment);
        const want = Math.min(limit - pos.offset, Math.max(maxBytes - bytes, 0) + HEADER_BYTES);
        let chunk = Buffer.allocUnsafe(want);
        chunk = chunk.subarray(0, (await fh.read(chunk, 0, want, pos.offset)).bytesRead);
        let off = 0;
        // 'more': read on from pos; 'full': the batch is complete; 'bad': the rest of the segment is unreadable
        let outcome: 'more' | 'full' | 'bad' = 'more';
        for (;;) {
          if (bytes >= maxBytes || payloads.length >= maxFrames) {
            outcome = 'full';
            break;
          }
          if (off + HEADER_BYTES > chunk.length) {
            // a header cut by the end of the segment is a torn tail; else read the next chunk
            if (pos.offset + off + HEADER_BYTES > limit) outcome = 'bad';
            break;
          }
          const len = chunk.readUInt32LE(off + 4);
          const frameEnd = pos.offset + off + HEADER_BYTES + len;
          if (chunk.readUInt32LE(off) !== MAGIC || frameEnd > limit) {
            outcome = 'bad'; // an incomplete frame written before a crash (never acknowledged)
            break;
          }
          if (off + HEADER_BYTES + len > chunk.length) {
            if (off > 0 || payloads.length > 0) break; // the next chunk starts at this frame
            // a frame larger than the chunk: read exactly it
            chunk = Buffer.allocUnsafe(HEADER_BYTES + len);
            await fh.read(chunk, 0, chunk.length, pos.offset);
            continue;
          }
          const payload = chunk.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
          if (zlib.crc32(payload) !== chunk.readUInt32LE(off + 8)) {
            if (payloads.length > 0) {
              outcome = 'full'; // deliver what came before; the next read meets the bad frame first
              break;
            }
            stats.corruptFrames += 1;
            onError(
              new Error(`spool: corrupt frame at byte ${pos.offset + off} of ${file(pos.segment)}; skipping the rest of that segment`),
            );
            outcome = 'bad';
            break;
          }
          payloads.push(payload);
          points += chunk.readUInt32LE(off + 12);
          bytes += HEADER_BYTES + len;
          off += HEADER_BYTES + len;
        }
        pos = { segment: pos.segment, offset: pos.offset + off };
        if (outcome === 'bad') {
          if (pos.segment !== active.segment && !reportedTorn.has(pos.segment)) {
            reportedTorn.add(pos.segment);
            stats.tornTails += 1;
          }
          // what was read so far goes first; the next read skips the unreadable rest
          if (payloads.length > 0) break;
          pos = { segment: pos.segment, offset: limit };
          continue;
        }
        if (outcome === 'full' || off === 0) break;
      }
      if (comparePositions(pos, from) <= 0) return undefined;
      return { payloads, points, bytes, end: pos };
    },

    async ack(end) {
      if (closed || comparePositions(end, cursor) <= 0) return;
      cursor = { ...end };
      for (const n of [...sizes.keys()]) {
        if (n < cursor.segment && n !== active.segment) {
          if (reader?.segment === n) {
            const fh = reader.fh;
            reader = undefined;
            await fh.close().catch(() => undefined);
          }
          removeSegment(n);
        }
      }
      const text = JSON.stringify(cursor);
      cursorWrite = cursorWrite.then(async () => {
        const tmp = `${cursorFile}.tmp`;
        try {
          await fsp.writeFile(tmp, text);
          await fsp.rename(tmp, cursorFile);
        } catch (err) {
          onError(new Error(`spool: cannot save the cursor in ${cursorFile}: ${(err as Error).message}`, { cause: err }));
        }
      });
      await cursorWrite;
    },

    cursor: () => ({ ...cursor }),

    async end() {
      await idle();
      return { segment: active.segment, offset: active.size };
    },

    waitForAppend() {
      if (closed) return Promise.resolve();
      return new Promise<void>((resolve) => appendWaiters.push(resolve));
    },

    stats() {
      let pending = 0;
      for (const [n, size] of sizes) {
        if (n > cursor.segment) pending += size;
        else if (n === cursor.segment) pending += Math.max(0, size - cursor.offset);
      }
      return { pendingBytes: pending, segments: sizes.size, ...stats };
    },

    async close() {
      if (closed) return;
      closed = true;
      await idle();
      await cursorWrite;
      wakeAppendWaiters();
      if (reader) await reader.fh.close().catch(() => undefined);
      reader = undefined;
      fs.closeSync(active.fd);
      // a delivered last segment is noise for the next start (the cursor file keeps the numbering)
      if (
        comparePositions(cursor, {
          segment: active.segment,
          offset: active.size,
        }) >= 0
      )
        removeSegment(active.segment);
    },
  };
}

/** The buffers left after skipping `skip` bytes of `buffers`. */
function sliceBuffers(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  let left = skip;
  for (const b of buffers) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    out.push(left > 0 ? b.subarray(left) : b);
    left = 0;
  }
  return out;
}
