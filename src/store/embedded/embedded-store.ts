/**
 * The embedded time-series store: one SQLite file (WAL mode), laid out like a small LSM tree so
 * that ingest costs one insert and one commit per `write()` call, not one row per point.
 *
 * - `segments`: each `write()` appends the whole batch as one blob (see `codec.ts`) in one
 *   transaction; this is the write-ahead log. The same points are kept in memory, per series
 *   (the memtable), so queries never decode segments.
 * - `chunks`: `compact()` (run by the store when `flushPoints` points are uncompacted) turns the
 *   memtable into per-series chunks and deletes the segments, in one transaction, so a crash
 *   neither loses nor duplicates points. Chunks of a series never overlap and hold no duplicate
 *   timestamps: out-of-order data is merged into the chunks it overlaps, and runs of small
 *   trailing chunks are merged once `mergeFanIn` of them pile up.
 * - On open, series stats come from the chunk index and the memtable is rebuilt from segments.
 *
 * Everything runs synchronously on the caller's thread (better-sqlite3); the promises of the
 * `TimeSeriesStore` interface resolve once the work is durable.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Point, SeriesKey } from '../../domain/types.ts';
import type { SeriesInfo, SeriesRange, TimeSeriesStore } from '../time-series-store.ts';
import { allocSegment, decodeChunk, decodeSegment, encodeChunk, type DecodedSegment } from './codec.ts';
import { concatRuns, emptyRun, lowerBound, mergeRuns, sliceRun, sortDedup } from './runs.ts';

/** Options of {@link createEmbeddedStore}. */
export interface EmbeddedStoreOptions {
  /** database file, e.g. `data/timeseries.db`; its folder is created if missing */
  path: string;
  /** retention used by {@link EmbeddedStore.applyRetention}; unset keeps everything */
  retentionMs?: number;
  /**
   * `full` (default) syncs the WAL on every commit, so a written batch survives a power cut;
   * `normal` survives a process crash but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  /** uncompacted points that trigger a compaction (default 1,000,000) */
  flushPoints?: number;
  /** largest chunk, in points (default 1,024); chunks under half of it count as small */
  chunkPoints?: number;
  /** small trailing chunks of a series that are merged into one (default 8) */
  mergeFanIn?: number;
  /** told about a failed automatic compaction; the write itself is durable and resolves */
  onError?: (error: Error) => void;
}

/** Counters for tests, benchmarks and diagnostics. */
export interface EmbeddedStoreStats {
  series: number;
  /** points in segments, not yet in chunks */
  uncompactedPoints: number;
  segments: number;
  chunks: number;
  compactions: number;
}

/** The embedded store: a {@link TimeSeriesStore} plus its maintenance operations. */
export interface EmbeddedStore extends TimeSeriesStore {
  /** moves every uncompacted point into chunks (normally automatic) */
  compact(): Promise<void>;
  /** `deleteBefore(nowMs - retentionMs)`; does nothing without `retentionMs` */
  applyRetention(nowMs: number): Promise<void>;
  stats(): EmbeddedStoreStats;
}

/** Schema version written to `meta`; a file with a newer one is refused. */
export const EMBEDDED_SCHEMA_VERSION = 1;

const DEFAULT_FLUSH_POINTS = 1_000_000;
const DEFAULT_CHUNK_POINTS = 1024;
const DEFAULT_MERGE_FAN_IN = 8;
/** keeps each segment blob far below SQLite's 1 GB limit */
const MAX_SEGMENT_POINTS = 1_000_000;

/** One series: identity, stats of its chunks, and stats of its points in the memtable. */
interface Series {
  id: number;
  account: string;
  metric: string;
  /** points in chunks (exact: chunks hold no duplicates) */
  points: number;
  firstMs: number;
  lastMs: number;
  /** trailing chunks smaller than half `chunkPoints` */
  tailSmall: number;
  /** points in the memtable, duplicates included */
  memCount: number;
  memMin: number;
  memMax: number;
  /** timestamp of the last point written */
  memLast: number;
  /** memtable timestamps strictly increase in write order */
  memOrdered: boolean;
  /** index of this series' run in the grouped memtable */
  slot: number;
}

interface ChunkStats {
  points: number;
  firstMs: number;
  lastMs: number;
  tailSmall: number;
}

type Row = unknown[];

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (account, metric));
  CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, min_ts NUMERIC NOT NULL, max_ts NUMERIC NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, min_ts NUMERIC NOT NULL, max_ts NUMERIC NOT NULL,
    n INTEGER NOT NULL, data BLOB NOT NULL);
  -- covering: opening the store reads every chunk's stats from this index alone
  CREATE INDEX IF NOT EXISTS chunks_by_series ON chunks (series_id, max_ts, min_ts, n);
`;

/**
 * Opens (or creates) the store file. Throws when the file cannot be opened or was written by a
 * newer schema version.
 */
export function createEmbeddedStore(options: EmbeddedStoreOptions): EmbeddedStore {
  const file = options.path;
  const flushPoints = Math.max(1, options.flushPoints ?? DEFAULT_FLUSH_POINTS);
  const chunkPoints = Math.max(2, options.chunkPoints ?? DEFAULT_CHUNK_POINTS);
  const smallPoints = chunkPoints >>> 1;
  const mergeFanIn = Math.max(2, options.mergeFanIn ?? DEFAULT_MERGE_FAN_IN);
  const where = `time-series store ${file}`;

  let db: Database.Database;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('cache_size = -32768');
  } catch (cause) {
    throw new Error(`${where}: cannot open the database`, { cause });
  }
  try {
    // check the version before touching the schema: a newer file must stay as it is
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (row !== undefined && Number(row.value) !== EMBEDDED_SCHEMA_VERSION) {
      throw new Error(`${where}: schema version ${row.value} is not supported (this build reads version ${EMBEDDED_SCHEMA_VERSION})`);
    }
    db.transaction(() => {
      db.exec(SCHEMA);
      db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(EMBEDDED_SCHEMA_VERSION));
    })();
  } catch (error) {
    db.close();
    throw error;
  }

  const stmt = {
    insertSeries: db.prepare('INSERT INTO series (id, account, metric) VALUES (?, ?, ?)'),
    deleteSeries: db.prepare('DELETE FROM series WHERE id = ?'),
    insertSegment: db.prepare('INSERT INTO segments (min_ts, max_ts, n, data) VALUES (?, ?, ?, ?)'),
    deleteSegments: db.prepare('DELETE FROM segments'),
    insertChunk: db.prepare('INSERT INTO chunks (series_id, min_ts, max_ts, n, data) VALUES (?, ?, ?, ?, ?)'),
    deleteChunk: db.prepare('DELETE FROM chunks WHERE id = ?'),
    /** chunks overlapping [from, to): max_ts >= from AND min_ts < to */
    rangeChunks: db.prepare('SELECT data FROM chunks WHERE series_id = ? AND max_ts >= ? AND min_ts < ? ORDER BY max_ts').raw(),
    /** chunks overlapping the closed interval [from, to] */
    overlapChunks: db.prepare('SELECT id, data FROM chunks WHERE series_id = ? AND max_ts >= ? AND min_ts <= ? ORDER BY max_ts').raw(),
    lastChunks: db.prepare('SELECT id, n, data FROM chunks WHERE series_id = ? ORDER BY max_ts DESC LIMIT ?').raw(),
    seriesStats: db.prepare('SELECT count(*), total(n), min(min_ts), max(max_ts) FROM chunks WHERE series_id = ?').raw(),
    tailSizes: db.prepare('SELECT n FROM chunks WHERE series_id = ? ORDER BY max_ts DESC LIMIT ?').pluck(),
    deleteChunksBefore: db.prepare('DELETE FROM chunks WHERE series_id = ? AND max_ts < ?'),
    updateChunk: db.prepare('UPDATE chunks SET min_ts = ?, max_ts = ?, n = ?, data = ? WHERE id = ?'),
    countSegments: db.prepare('SELECT count(*) FROM segments').pluck(),
    countChunks: db.prepare('SELECT count(*) FROM chunks').pluck(),
  };

  /** account -> metric -> series */
  const accounts = new Map<string, Map<string, Series>>();
  const byId = new Map<number, Series>();
  /** the memtable: segments not yet compacted, as written */
  let mem: DecodedSegment[] = [];
  /** series with points in the memtable */
  let dirty: Series[] = [];
  let uncompacted = 0;
  /** the memtable grouped per series (by `Series.slot`), sorted and deduplicated; undefined when stale */
  let grouped: SeriesRange[] | undefined;
  /** queries since the last write: grouping pays off from the second one */
  let queriesSinceWrite = 0;
  /** the memtable holds duplicates or late points, so point counts are not final until compaction */
  let inexact = false;
  let nextId = 1;
  let compactions = 0;
  let closed = false;

  function newSeries(id: number, account: string, metric: string): Series {
    return {
      id,
      account,
      metric,
      points: 0,
      firstMs: Infinity,
      lastMs: -Infinity,
      tailSmall: 0,
      memCount: 0,
      memMin: Infinity,
      memMax: -Infinity,
      memLast: -Infinity,
      memOrdered: true,
      slot: -1,
    };
  }

  function register(s: Series): Map<string, Series> {
    let metrics = accounts.get(s.account);
    if (metrics === undefined) {
      metrics = new Map();
      accounts.set(s.account, metrics);
    }
    metrics.set(s.metric, s);
    byId.set(s.id, s);
    return metrics;
  }

  function unregister(s: Series): void {
    const metrics = accounts.get(s.account);
    metrics?.delete(s.metric);
    if (metrics?.size === 0) accounts.delete(s.account);
    byId.delete(s.id);
  }

  /** Notes a point that joined the memtable. */
  function memNote(s: Series, ts: number): void {
    if (s.memCount === 0) {
      dirty.push(s);
      s.memMin = ts;
      s.memMax = ts;
      s.memOrdered = true;
    } else {
      if (ts <= s.memLast) {
        s.memOrdered = false;
        inexact = true;
      }
      if (ts < s.memMin) s.memMin = ts;
      if (ts > s.memMax) s.memMax = ts;
    }
    if (ts <= s.lastMs) inexact = true;
    s.memLast = ts;
    s.memCount++;
  }

  function resetMem(s: Series): void {
    s.memCount = 0;
    s.memMin = Infinity;
    s.memMax = -Infinity;
    s.memLast = -Infinity;
    s.memOrdered = true;
  }

  function readStats(id: number): ChunkStats {
    const row = stmt.seriesStats.get(id) as [number, number, number | null, number | null];
    const sizes = stmt.tailSizes.all(id, mergeFanIn) as number[];
    let tailSmall = 0;
    while (tailSmall < sizes.length && sizes[tailSmall]! < smallPoints) tailSmall++;
    return { points: row[1], firstMs: row[2] ?? Infinity, lastMs: row[3] ?? -Infinity, tailSmall };
  }

  // Load series, then their chunk stats from the covering index, then replay the segments.
  try {
    for (const row of db.prepare('SELECT id, account, metric FROM series').raw().iterate() as Iterable<[number, string, string]>) {
      register(newSeries(row[0], row[1], row[2]));
      if (row[0] >= nextId) nextId = row[0] + 1;
    }
    let current: Series | undefined;
    const scan = db.prepare('SELECT series_id, min_ts, max_ts, n FROM chunks INDEXED BY chunks_by_series ORDER BY series_id, max_ts').raw();
    for (const row of scan.iterate() as Iterable<[number, number, number, number]>) {
      const [id, minTs, maxTs, n] = row;
      if (current?.id !== id) {
        current = byId.get(id);
        if (current === undefined) throw new Error(`chunk refers to unknown series ${id}`);
      }
      if (current.points === 0) current.firstMs = minTs;
      current.points += n;
      current.lastMs = maxTs;
      current.tailSmall = n < smallPoints ? current.tailSmall + 1 : 0;
    }
    for (const row of db.prepare('SELECT data FROM segments ORDER BY id').raw().iterate() as Iterable<[Buffer]>) {
      const seg = decodeSegment(row[0]);
      for (let i = 0; i < seg.tsMs.length; i++) {
        const s = byId.get(seg.seriesIds[i]!);
        if (s === undefined) throw new Error(`segment refers to unknown series ${seg.seriesIds[i]}`);
        memNote(s, seg.tsMs[i]!);
      }
      mem.push(seg);
      uncompacted += seg.tsMs.length;
    }
  } catch (cause) {
    db.close();
    throw new Error(`${where}: cannot load the stored series`, { cause });
  }

  function ensureOpen(): void {
    if (closed) throw new Error(`${where}: the store is closed`);
  }

  interface PendingSegment {
    min: number;
    max: number;
    bytes: Buffer;
    columns: DecodedSegment;
  }

  const writeTx = db.transaction((created: Series[], segments: PendingSegment[]) => {
    for (const s of created) stmt.insertSeries.run(s.id, s.account, s.metric);
    for (const seg of segments) stmt.insertSegment.run(seg.min, seg.max, seg.columns.tsMs.length, seg.bytes);
  });

  function writeSync(points: readonly Point[]): void {
    ensureOpen();
    const total = points.length;
    if (total === 0) return;
    const refs = new Array<Series>(total);
    const created: Series[] = [];
    const segments: PendingSegment[] = [];
    try {
      let lastAccount: string | undefined;
      let metrics: Map<string, Series> | undefined;
      for (let start = 0; start < total; start += MAX_SEGMENT_POINTS) {
        const n = Math.min(MAX_SEGMENT_POINTS, total - start);
        const seg = allocSegment(n);
        let min = Infinity;
        let max = -Infinity;
        for (let k = 0; k < n; k++) {
          const i = start + k;
          const p = points[i]!;
          const ts = p.tsMs;
          const value = p.value;
          if (!Number.isFinite(ts) || !Number.isFinite(value)) {
            throw new Error(
              `${where}: point ${i} of ${total} (${String(p.account)}/${String(p.metric)}) has a non-finite ` +
                `${Number.isFinite(ts) ? `value ${value}` : `timestamp ${ts}`}; nothing of this write was stored`,
            );
          }
          // batches tend to group points of one account; skip the outer lookup when it repeats
          if (p.account !== lastAccount) {
            lastAccount = p.account;
            metrics = accounts.get(p.account);
          }
          let s = metrics?.get(p.metric);
          if (s === undefined) {
            if (typeof p.account !== 'string' || typeof p.metric !== 'string' || p.account === '' || p.metric === '') {
              throw new Error(
                `${where}: point ${i} of ${total} has an empty or non-string account or metric; nothing of this write was stored`,
              );
            }
            s = newSeries(nextId++, p.account, p.metric);
            metrics = register(s);
            created.push(s);
          }
          refs[i] = s;
          seg.tsMs[k] = ts;
          seg.values[k] = value;
          seg.seriesIds[k] = s.id;
          if (ts < min) min = ts;
          if (ts > max) max = ts;
        }
        segments.push({ min, max, bytes: seg.bytes, columns: seg });
      }
      try {
        writeTx(created, segments);
      } catch (cause) {
        throw new Error(`${where}: cannot store a write of ${total} points`, { cause });
      }
    } catch (error) {
      for (const s of created) unregister(s);
      if (created.length > 0) nextId = created[0]!.id;
      throw error;
    }
    for (const seg of segments) mem.push(seg.columns);
    for (let i = 0; i < total; i++) memNote(refs[i]!, points[i]!.tsMs);
    uncompacted += total;
    grouped = undefined;
    queriesSinceWrite = 0;
    if (uncompacted >= flushPoints) {
      try {
        compactSync();
      } catch (error) {
        // the batch is durable in its segment; the next compaction retries
        options.onError?.(error as Error);
      }
    }
  }

  /** The memtable points of one series with fromMs <= ts < toMs, in write order. */
  function memRun(s: Series, fromMs: number, toMs: number): SeriesRange {
    const tsMs: number[] = [];
    const values: number[] = [];
    const id = s.id;
    for (const seg of mem) {
      const ids = seg.seriesIds;
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] !== id) continue;
        const t = seg.tsMs[i]!;
        if (t >= fromMs && t < toMs) {
          tsMs.push(t);
          values.push(seg.values[i]!);
        }
      }
    }
    return { tsMs: Float64Array.from(tsMs), values: Float64Array.from(values) };
  }

  /** Inserts a sorted run as chunks of at most `chunkPoints`; returns the size of the last. */
  function insertChunks(id: number, run: SeriesRange): number {
    const n = run.tsMs.length;
    let last = 0;
    for (let from = 0; from < n; from += chunkPoints) {
      const to = Math.min(n, from + chunkPoints);
      stmt.insertChunk.run(id, run.tsMs[from]!, run.tsMs[to - 1]!, to - from, encodeChunk(run.tsMs, run.values, from, to));
      last = to - from;
    }
    return last;
  }

  function decodeRows(rows: Row[], dataAt: number): SeriesRange[] {
    return rows.map((row) => decodeChunk(row[dataAt] as Buffer));
  }

  /** Writes the memtable run of one series (sorted, no duplicates) into chunks; returns the new chunk stats. */
  function compactSeries(s: Series, run: SeriesRange): ChunkStats {
    const n = run.tsMs.length;
    const first = run.tsMs[0]!;
    const last = run.tsMs[n - 1]!;
    if (s.points > 0 && first <= s.lastMs) {
      // late or duplicate points: rewrite the chunks they overlap, newer values winning
      const rows = stmt.overlapChunks.all(s.id, first, last) as Row[];
      const merged = mergeRuns(concatRuns(decodeRows(rows, 1)), run);
      for (const row of rows) stmt.deleteChunk.run(row[0]);
      insertChunks(s.id, merged);
      return readStats(s.id);
    }
    if (s.tailSmall + 1 >= mergeFanIn && n < smallPoints) {
      // a run of small trailing chunks: merge them with the new points into full-size chunks
      const rows = (stmt.lastChunks.all(s.id, s.tailSmall) as Row[]).reverse();
      const merged = concatRuns([...decodeRows(rows, 2), run]);
      for (const row of rows) stmt.deleteChunk.run(row[0]);
      const lastSize = insertChunks(s.id, merged);
      return { points: s.points + n, firstMs: s.firstMs, lastMs: last, tailSmall: lastSize < smallPoints ? 1 : 0 };
    }
    const lastSize = insertChunks(s.id, run);
    return {
      points: s.points + n,
      firstMs: s.points > 0 ? s.firstMs : first,
      lastMs: last,
      tailSmall: lastSize >= smallPoints ? 0 : n > chunkPoints ? 1 : s.tailSmall + 1,
    };
  }

  const compactTx = db.transaction((series: Series[], runs: SeriesRange[]): ChunkStats[] => {
    const out = series.map((s, k) => compactSeries(s, runs[k]!));
    stmt.deleteSegments.run();
    return out;
  });

  /** Groups the memtable by series (a counting sort, stable in write order) and sorts each run. */
  function groupMemtable(): SeriesRange[] {
    const offsets = new Int32Array(dirty.length + 1);
    const slotOf = new Int32Array(nextId);
    dirty.forEach((s, k) => {
      s.slot = k;
      slotOf[s.id] = k;
      offsets[k + 1] = offsets[k]! + s.memCount;
    });
    const tsMs = new Float64Array(uncompacted);
    const values = new Float64Array(uncompacted);
    const fill = offsets.slice(0, dirty.length);
    for (const seg of mem) {
      const ids = seg.seriesIds;
      for (let i = 0; i < ids.length; i++) {
        const at = fill[slotOf[ids[i]!]!]!++;
        tsMs[at] = seg.tsMs[i]!;
        values[at] = seg.values[i]!;
      }
    }
    return dirty.map((s, k) =>
      sortDedup({ tsMs: tsMs.subarray(offsets[k], offsets[k + 1]), values: values.subarray(offsets[k], offsets[k + 1]) }, s.memOrdered),
    );
  }

  function compactSync(): void {
    ensureOpen();
    if (uncompacted === 0) return;
    let stats: ChunkStats[];
    try {
      stats = compactTx(dirty, (grouped ??= groupMemtable()));
    } catch (cause) {
      throw new Error(`${where}: compaction of ${uncompacted} points failed`, { cause });
    }
    // only now, with the transaction committed, does the memory state move on
    dirty.forEach((s, k) => {
      Object.assign(s, stats[k]!);
      resetMem(s);
    });
    dirty = [];
    mem = [];
    grouped = undefined;
    uncompacted = 0;
    inexact = false;
    compactions++;
  }

  function querySync(key: SeriesKey, fromMs: number, toMs: number): SeriesRange {
    ensureOpen();
    const s = accounts.get(key.account)?.get(key.metric);
    if (s === undefined || !(fromMs < toMs)) return emptyRun();
    let stored = emptyRun();
    if (s.points > 0 && s.lastMs >= fromMs && s.firstMs < toMs) {
      const runs = decodeRows(stmt.rangeChunks.all(s.id, fromMs, toMs) as Row[], 0).map((c) => sliceRun(c, fromMs, toMs));
      if (runs.length > 0) stored = concatRuns(runs);
    }
    if (s.memCount === 0 || s.memMax < fromMs || s.memMin >= toMs) return stored;
    // one query after a write scans the memtable; a series of them groups it once and slices
    if (grouped === undefined && ++queriesSinceWrite < 2) {
      return mergeRuns(stored, sortDedup(memRun(s, fromMs, toMs), s.memOrdered));
    }
    grouped ??= groupMemtable();
    return mergeRuns(stored, sliceRun(grouped[s.slot]!, fromMs, toMs));
  }

  const deleteTx = db.transaction((beforeMs: number): { s: Series; stats: ChunkStats }[] => {
    const changed: { s: Series; stats: ChunkStats }[] = [];
    for (const s of byId.values()) {
      if (s.points === 0 || s.firstMs >= beforeMs) continue;
      stmt.deleteChunksBefore.run(s.id, beforeMs);
      // at most one chunk straddles the cutoff, because chunks of a series never overlap
      for (const row of stmt.overlapChunks.all(s.id, beforeMs, beforeMs) as Row[]) {
        const c = decodeChunk(row[1] as Buffer);
        if (c.tsMs[0]! >= beforeMs) continue;
        const lo = lowerBound(c.tsMs, beforeMs);
        const n = c.tsMs.length - lo;
        stmt.updateChunk.run(c.tsMs[lo]!, c.tsMs[c.tsMs.length - 1]!, n, encodeChunk(c.tsMs, c.values, lo), row[0]);
      }
      const stats = readStats(s.id);
      if (stats.points === 0) stmt.deleteSeries.run(s.id);
      changed.push({ s, stats });
    }
    return changed;
  });

  function deleteBeforeSync(beforeMs: number): void {
    ensureOpen();
    if (Number.isNaN(beforeMs)) throw new Error(`${where}: deleteBefore needs a time, got NaN`);
    // compact first so no deleted point survives in a segment and comes back on reopen
    compactSync();
    let changed: { s: Series; stats: ChunkStats }[];
    try {
      changed = deleteTx(beforeMs);
    } catch (cause) {
      throw new Error(`${where}: deleting points before ${beforeMs} failed`, { cause });
    }
    for (const { s, stats } of changed) {
      Object.assign(s, stats);
      if (stats.points === 0) unregister(s);
    }
  }

  function info(s: Series): SeriesInfo {
    const inMem = s.memCount > 0;
    return {
      account: s.account,
      metric: s.metric,
      points: s.points + s.memCount,
      firstMs: inMem ? Math.min(s.firstMs, s.memMin) : s.firstMs,
      lastMs: inMem ? Math.max(s.lastMs, s.memMax) : s.lastMs,
    };
  }

  const byKey = (a: SeriesInfo, b: SeriesInfo): number =>
    a.account === b.account ? (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0) : a.account < b.account ? -1 : 1;

  return {
    async write(points) {
      writeSync(points);
    },
    async query(key, fromMs, toMs) {
      return querySync(key, fromMs, toMs);
    },
    async listSeries(account) {
      ensureOpen();
      // point counts are exact once duplicates and late points are merged into chunks
      if (inexact) compactSync();
      const groups = account === undefined ? [...accounts.values()] : [accounts.get(account) ?? new Map<string, Series>()];
      const out: SeriesInfo[] = [];
      for (const metrics of groups) for (const s of metrics.values()) out.push(info(s));
      return out.sort(byKey);
    },
    async seriesCount(account) {
      ensureOpen();
      return accounts.get(account)?.size ?? 0;
    },
    async deleteBefore(beforeMs) {
      deleteBeforeSync(beforeMs);
    },
    async compact() {
      compactSync();
    },
    async applyRetention(nowMs) {
      if (options.retentionMs !== undefined) deleteBeforeSync(nowMs - options.retentionMs);
    },
    stats() {
      ensureOpen();
      return {
        series: byId.size,
        uncompactedPoints: uncompacted,
        segments: stmt.countSegments.get() as number,
        chunks: stmt.countChunks.get() as number,
        compactions,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      mem = [];
      grouped = undefined;
      db.close();
    },
  };
}
