/**
 * Ingest benchmark of the embedded store: 2M points in batches of 5,000 over 10,000 series, with
 * synchronous=FULL and NORMAL, at the default flushPoints and at 200,000. Each configuration runs
 * three times after a warm-up; the median is printed. Timing covers `write()` only (including the
 * automatic compactions it triggers), not the generation of the points.
 *
 * Run: `npx tsx src/store/embedded/embedded.bench.ts` (BENCH_POINTS overrides the 2M).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Point } from '../../domain/types.ts';
import { createEmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.ts';

const TOTAL = Number(process.env['BENCH_POINTS'] ?? 2_000_000);
const BATCH = 5_000;
const SERIES = 10_000;
const BASE_MS = 1_700_000_000_000;
const REPEATS = 3;

function batch(start: number, integerValues: boolean): Point[] {
  const points = new Array<Point>(BATCH);
  for (let k = 0; k < BATCH; k++) {
    const i = start + k;
    const s = i % SERIES;
    const v = Math.sin(i / 977) * 100 + s;
    points[k] = {
      account: `acct-${s % 1000}`,
      metric: `metric-${Math.floor(s / 1000)}`,
      tsMs: BASE_MS + Math.floor(i / SERIES) * 10_000,
      value: integerValues ? Math.round(v) : v,
    };
  }
  return points;
}

interface Result {
  pointsPerS: number;
  compactions: number;
  chunks: number;
  chunkBytesPerPoint: number;
  queryMs: number;
  reopenMs: number;
}

async function run(total: number, options: Omit<EmbeddedStoreOptions, 'path'>, integerValues: boolean): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-bench-'));
  const file = path.join(dir, 'timeseries.db');
  const store = createEmbeddedStore({ path: file, ...options });
  let writeMs = 0;
  for (let start = 0; start < total; start += BATCH) {
    const points = batch(start, integerValues);
    const t0 = performance.now();
    await store.write(points);
    writeMs += performance.now() - t0;
  }
  await store.compact();
  const stats = store.stats();
  const t1 = performance.now();
  for (let s = 0; s < 1000; s++) await store.query({ account: `acct-${s}`, metric: 'metric-3' }, -Infinity, Infinity);
  const queryMs = performance.now() - t1;
  await store.close();
  const t2 = performance.now();
  await createEmbeddedStore({ path: file }).close();
  const reopenMs = performance.now() - t2;
  // chunk payload only: the file also keeps the freed pages of deleted segments for reuse
  const { createRequire } = await import('node:module');
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  const raw = new Database(file, { readonly: true });
  const chunkBytes = raw.prepare('SELECT total(length(data)) FROM chunks').pluck().get() as number;
  raw.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    pointsPerS: (total / writeMs) * 1000,
    compactions: stats.compactions,
    chunks: stats.chunks,
    chunkBytesPerPoint: chunkBytes / total,
    queryMs,
    reopenMs,
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en');

await run(200_000, { synchronous: 'normal' }, false);
console.log(`embedded store ingest: ${fmt(TOTAL)} points, batches of ${fmt(BATCH)}, ${fmt(SERIES)} series (median of ${REPEATS})`);
for (const synchronous of ['full', 'normal'] as const) {
  for (const flushPoints of [undefined, 200_000]) {
    for (const integerValues of [false, true]) {
      const results: Result[] = [];
      for (let r = 0; r < REPEATS; r++) {
        results.push(await run(TOTAL, flushPoints === undefined ? { synchronous } : { synchronous, flushPoints }, integerValues));
      }
      results.sort((a, b) => a.pointsPerS - b.pointsPerS);
      const m = results[Math.floor(REPEATS / 2)]!;
      console.log(
        `synchronous=${synchronous.padEnd(6)} flushPoints=${flushPoints === undefined ? 'default ' : fmt(flushPoints)} ` +
          `values=${integerValues ? 'integer' : 'float  '}: ${fmt(m.pointsPerS).padStart(9)} points/s ` +
          `(min ${fmt(results[0]!.pointsPerS)}, max ${fmt(results[REPEATS - 1]!.pointsPerS)}) | ${m.compactions} compactions, ` +
          `${fmt(m.chunks)} chunks, ${m.chunkBytesPerPoint.toFixed(1)} chunk bytes/point | 1,000 full-series queries ${m.queryMs.toFixed(0)} ms | reopen ${m.reopenMs.toFixed(0)} ms`,
      );
    }
  }
}
