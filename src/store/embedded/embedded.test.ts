/** The embedded SQLite store: the contract (uncompacted and compacting layouts) plus its own guarantees. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Point, SeriesKey } from '../../domain/types.ts';
import { timeSeriesStoreContract } from '../contract.ts';
import { createMemoryStore } from '../memory/memory-store.ts';
import type { SeriesRange, TimeSeriesStore } from '../time-series-store.ts';
import { createEmbeddedStore, type EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.ts';

const dirs: string[] = [];
const open: EmbeddedStore[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-ts-'));
  dirs.push(dir);
  return dir;
}

function openStore(file: string, options: Omit<EmbeddedStoreOptions, 'path'> = {}): EmbeddedStore {
  const store = createEmbeddedStore({ path: file, ...options });
  open.push(store);
  return store;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function contractFor(options: Omit<EmbeddedStoreOptions, 'path'>) {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-ts-'));
    const file = path.join(dir, 'timeseries.db');
    let store = createEmbeddedStore({ path: file, ...options });
    return {
      store,
      reopen: async () => {
        await store.close();
        store = createEmbeddedStore({ path: file, ...options });
        return store;
      },
      cleanup: async () => {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

timeSeriesStoreContract('embedded store, points left in segments', contractFor({}));
timeSeriesStoreContract(
  'embedded store, compacting every write into tiny chunks',
  contractFor({ flushPoints: 1, chunkPoints: 4, mergeFanIn: 2, synchronous: 'normal' }),
);

const pt = (account: string, metric: string, tsMs: number, value: number): Point => ({ account, metric, tsMs, value });
const plain = (r: SeriesRange): { ts: number[]; values: number[] } => ({ ts: Array.from(r.tsMs), values: Array.from(r.values) });
const key = (account: string, metric: string): SeriesKey => ({ account, metric });

describe('embedded store', () => {
  it('after a reopen finds every point: compacted chunks, uncompacted segments, and late duplicates over both', async () => {
    const file = path.join(tempDir(), 'timeseries.db');
    let store = openStore(file, { flushPoints: 1_000_000 });
    await store.write(Array.from({ length: 100 }, (_, i) => pt('a', 'm', i * 10, i)));
    await store.compact();
    await store.write([pt('a', 'm', 1000, 100), pt('a', 'm', 50, -5), pt('a', 'm', 55, 5.5), pt('b', 'n', 1, 1)]);
    expect(store.stats()).toMatchObject({ uncompactedPoints: 4, segments: 1 });
    await store.close();

    store = openStore(file, { flushPoints: 1_000_000 });
    expect(store.stats()).toMatchObject({ uncompactedPoints: 4, segments: 1, series: 2 });
    const expected = new Map<number, number>(Array.from({ length: 100 }, (_, i) => [i * 10, i]));
    expected.set(1000, 100).set(50, -5).set(55, 5.5);
    const sorted = [...expected].sort((x, y) => x[0] - y[0]);
    const wanted = { ts: sorted.map((e) => e[0]), values: sorted.map((e) => e[1]) };
    expect(plain(await store.query(key('a', 'm'), -Infinity, Infinity))).toEqual(wanted);
    await store.compact();
    expect(store.stats()).toMatchObject({ uncompactedPoints: 0, segments: 0 });
    expect(plain(await store.query(key('a', 'm'), -Infinity, Infinity))).toEqual(wanted);
    expect(await store.listSeries('a')).toEqual([{ account: 'a', metric: 'm', points: 102, firstMs: 0, lastMs: 1000 }]);
  });

  it.each([
    { when: 'written, not compacted', flushPoints: 1_000_000 },
    { when: 'some writes auto-compacted, the last not', flushPoints: 250 },
  ])('a crash image taken right after write() resolves holds every point ($when)', async ({ flushPoints }) => {
    const dir = tempDir();
    const file = path.join(dir, 'timeseries.db');
    const store = openStore(file, { flushPoints });
    for (let b = 0; b < 5; b++) await store.write(Array.from({ length: 100 }, (_, i) => pt('a', `m${i % 3}`, b * 100 + i, b)));
    // copying the database and its WAL while the store is open is what a crash leaves on disk
    const crash = path.join(tempDir(), 'timeseries.db');
    fs.copyFileSync(file, crash);
    if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${crash}-wal`);
    const recovered = openStore(crash);
    for (let m = 0; m < 3; m++) {
      const r = await recovered.query(key('a', `m${m}`), -Infinity, Infinity);
      expect(r.tsMs.length).toBe(Array.from({ length: 500 }, (_, i) => i).filter((i) => (i % 100) % 3 === m).length);
      expect(plain(r)).toEqual(plain(await store.query(key('a', `m${m}`), -Infinity, Infinity)));
    }
    expect((await recovered.listSeries()).reduce((n, s) => n + s.points, 0)).toBe(500);
  });

  it('compacts by itself once flushPoints points are uncompacted', async () => {
    const store = openStore(path.join(tempDir(), 'ts.db'), { flushPoints: 100 });
    await store.write(Array.from({ length: 60 }, (_, i) => pt('a', 'm', i, i)));
    expect(store.stats()).toMatchObject({ compactions: 0, uncompactedPoints: 60, segments: 1 });
    await store.write(Array.from({ length: 60 }, (_, i) => pt('a', 'm', 60 + i, i)));
    expect(store.stats()).toMatchObject({ compactions: 1, uncompactedPoints: 0, segments: 0 });
    expect((await store.query(key('a', 'm'), 0, 1000)).tsMs.length).toBe(120);
  });

  it('merges small trailing chunks so steady trickles do not leave one tiny chunk per compaction', async () => {
    // synchronous=normal: this test is about layout, and 400 fsynced commits would only slow it down
    const store = openStore(path.join(tempDir(), 'ts.db'), { flushPoints: 1, chunkPoints: 32, mergeFanIn: 4, synchronous: 'normal' });
    for (let i = 0; i < 200; i++) await store.write([pt('a', 'm', i * 1000, i)]);
    // 200 single-point compactions; without merging that would be 200 chunks
    expect(store.stats().chunks).toBeLessThanOrEqual(Math.ceil(200 / 16) + 4);
    expect(Array.from((await store.query(key('a', 'm'), -Infinity, Infinity)).values)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(await store.listSeries()).toEqual([{ account: 'a', metric: 'm', points: 200, firstMs: 0, lastMs: 199_000 }]);
  });

  it('takes a 100,000-point write and answers range queries over it', async () => {
    const store = openStore(path.join(tempDir(), 'ts.db'));
    const points: Point[] = [];
    for (let i = 0; i < 100_000; i++) points.push(pt(`acct-${i % 10}`, `m-${i % 100}`, 1_700_000_000_000 + i * 1000, i));
    await store.write(points);
    const r1 = await store.query(key('acct-3', 'm-53'), 1_700_000_000_000, 1_700_000_000_000 + 50_000_000);
    expect(r1.tsMs.length).toBe(500);
    expect(r1.values[0]).toBe(53);
    await store.compact();
    const r2 = await store.query(key('acct-3', 'm-53'), 1_700_000_000_000, 1_700_000_000_000 + 50_000_000);
    expect(plain(r2)).toEqual(plain(r1));
    expect(await store.seriesCount('acct-3')).toBe(10);
    expect((await store.listSeries()).reduce((n, s) => n + s.points, 0)).toBe(100_000);
  });

  it('deleteBefore trims a chunk that straddles the cutoff, and deleted points stay deleted after a reopen', async () => {
    const file = path.join(tempDir(), 'ts.db');
    let store = openStore(file, { chunkPoints: 1024 });
    await store.write(Array.from({ length: 100 }, (_, i) => pt('a', 'm', i, i)));
    await store.compact();
    await store.write([pt('a', 'm', 200, 200)]);
    await store.deleteBefore(42.5);
    expect(store.stats()).toMatchObject({ chunks: 2, segments: 0 });
    await store.close();
    store = openStore(file);
    const r = await store.query(key('a', 'm'), -Infinity, Infinity);
    expect(r.tsMs[0]).toBe(43);
    expect(r.tsMs.length).toBe(58);
    expect(await store.listSeries()).toEqual([{ account: 'a', metric: 'm', points: 58, firstMs: 43, lastMs: 200 }]);
  });

  it('applyRetention deletes what is older than retentionMs, and nothing when no retention is set', async () => {
    const dir = tempDir();
    const kept = openStore(path.join(dir, 'a.db'));
    const trimmed = openStore(path.join(dir, 'b.db'), { retentionMs: 100 });
    for (const s of [kept, trimmed]) {
      await s.write([pt('a', 'm', 850, 1), pt('a', 'm', 950, 2)]);
      await s.applyRetention(1000);
    }
    expect(Array.from((await kept.query(key('a', 'm'), 0, 2000)).tsMs)).toEqual([850, 950]);
    expect(Array.from((await trimmed.query(key('a', 'm'), 0, 2000)).tsMs)).toEqual([950]);
  });

  it('matches the in-memory store through random writes, late points, duplicates, compactions, deletions and reopens', async () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const file = path.join(tempDir(), 'ts.db');
    const options = { flushPoints: 300, chunkPoints: 32, mergeFanIn: 3, synchronous: 'normal' as const };
    let store: TimeSeriesStore = openStore(file, options);
    const model = createMemoryStore();
    const keys = Array.from({ length: 6 }, (_, i) => key(`acct-${i % 2}`, `m-${i}`));
    const clock = Array.from(keys, () => 0);
    for (let round = 0; round < 60; round++) {
      const points: Point[] = [];
      const n = 1 + Math.floor(rand() * 80);
      for (let i = 0; i < n; i++) {
        const k = Math.floor(rand() * keys.length);
        const late = rand() < 0.15;
        const ts = late ? Math.floor(rand() * clock[k]!) : (clock[k]! += 1 + Math.floor(rand() * 3));
        points.push(pt(keys[k]!.account, keys[k]!.metric, rand() < 0.05 ? ts + 0.5 : ts, Math.round(rand() * 1000) / 8));
      }
      await store.write(points);
      await model.write(points);
      const r = rand();
      if (r < 0.05) {
        const cutoff = Math.floor(rand() * 40);
        await store.deleteBefore(cutoff);
        await model.deleteBefore(cutoff);
      }
      if (r < 0.1) {
        await store.close();
        store = openStore(file, options);
      }
      for (const k of keys) {
        const from = Math.floor(rand() * (Math.max(...clock) + 50)) - 25;
        const to = from + Math.floor(rand() * 300);
        expect(plain(await store.query(k, from, to)), `round ${round} ${k.metric} [${from}, ${to})`).toEqual(
          plain(await model.query(k, from, to)),
        );
      }
    }
    expect(await store.listSeries()).toEqual(await model.listSeries());
    for (const k of keys)
      expect(plain(await store.query(k, -Infinity, Infinity))).toEqual(plain(await model.query(k, -Infinity, Infinity)));
  });

  it('refuses a file written by a newer schema, naming the file', async () => {
    const file = path.join(tempDir(), 'future.db');
    await openStore(file).close();
    const raw = new Database(file);
    raw.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run();
    raw.close();
    expect(() => createEmbeddedStore({ path: file })).toThrow(/future\.db.*schema version 99/);
  });

  it('creates the folder of its file, and refuses calls once closed', async () => {
    const file = path.join(tempDir(), 'nested', 'data', 'timeseries.db');
    const store = openStore(file);
    expect(fs.existsSync(file)).toBe(true);
    await store.close();
    await expect(store.query(key('a', 'm'), 0, 1)).rejects.toThrow(/closed/);
  });
});
