/**
 * Detector benchmark: prints ns/point and bytes/series for the detectors over many series, fed
 * the way the engine feeds them (time-major: every series gets its point for one timestamp, then
 * the next timestamp). A script that prints figures, not a test.
 *
 *   node --expose-gc --import tsx src/detect/detect.bench.ts [series] [points]
 *
 * Without --expose-gc the memory figure is noisier. `runDetectBench()` is exported for
 * `bench/run.ts`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { combinedFactory } from './combined.ts';
import { driftFactory } from './drift.ts';
import { seasonalFactory } from './seasonal-baseline.ts';

/** Figures for one detector kind. */
export interface DetectBenchResult {
  detector: string;
  series: number;
  pointsPerSeries: number;
  /** mean wall time per update() call */
  nsPerPoint: number;
  /** what the detectors claim (`stateBytes`) */
  stateBytesPerSeries: number;
  /** heap + array buffers measured per detector; undefined unless run with --expose-gc */
  measuredBytesPerSeries: number | undefined;
  snapshotBytesPerSeries: number;
  /** sum of scores, so the work cannot be optimised away */
  checksum: number;
}

const STEP_MS = 60_000;
const START_MS = Date.UTC(2024, 0, 1);

function makeValues(series: number, points: number): Float64Array {
  // cheap deterministic noise; a daily cycle with a per-series phase and scale
  const values = new Float64Array(series * points);
  let seed = 12345;
  for (let j = 0; j < points; j++) {
    const hour = ((j * STEP_MS) / 3_600_000) % 24;
    for (let i = 0; i < series; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = seed / 4294967296 - 0.5;
      const scale = 10 + (i % 97);
      const daily = 1 + 0.5 * Math.sin(((hour + (i % 24)) / 24) * 2 * Math.PI);
      values[j * series + i] = scale * daily * (1 + 0.1 * noise) + (j === points - 7 && i % 50 === 0 ? 10 * scale : 0);
    }
  }
  return values;
}

function heapNow(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function benchOne(name: string, factory: DetectorFactory, series: number, points: number, values: Float64Array): DetectBenchResult {
  // warm the JIT first, so neither the timing nor the heap figure includes compilation
  for (let k = 0; k < 3; k++) {
    const warmup = factory.create();
    for (let j = 0; j < 5000; j++) warmup.update(START_MS + j * STEP_MS, values[(j * 31 + k) % values.length] as number);
  }
  const detectors: SeriesDetector[] = new Array<SeriesDetector>(series);
  const before = heapNow();
  for (let i = 0; i < series; i++) detectors[i] = factory.create();

  let checksum = 0;
  const t0 = performance.now();
  for (let j = 0; j < points; j++) {
    const ts = START_MS + j * STEP_MS;
    const row = j * series;
    for (let i = 0; i < series; i++) checksum += (detectors[i] as SeriesDetector).update(ts, values[row + i] as number).score;
  }
  const elapsedMs = performance.now() - t0;
  const after = heapNow();
  const stateBytes = detectors.reduce((a, d) => a + d.stateBytes, 0) / series;
  const snapshotBytes = (detectors[0] as SeriesDetector).snapshot().length;
  // keep the detectors alive until after the measurement
  if (detectors.length !== series) throw new Error('unreachable');
  return {
    detector: name,
    series,
    pointsPerSeries: points,
    nsPerPoint: (elapsedMs * 1e6) / (series * points),
    stateBytesPerSeries: Math.round(stateBytes),
    measuredBytesPerSeries: typeof (globalThis as { gc?: unknown }).gc === 'function' ? Math.round((after - before) / series) : undefined,
    snapshotBytesPerSeries: snapshotBytes,
    checksum,
  };
}

/** Runs the benchmark for every detector kind and returns the figures. */
export function runDetectBench(series = 1000, points = 2000): DetectBenchResult[] {
  const values = makeValues(series, points);
  return [
    benchOne('combined', combinedFactory(), series, points, values),
    benchOne('combined (reuseResult)', combinedFactory({ reuseResult: true }), series, points, values),
    benchOne('seasonal', seasonalFactory(), series, points, values),
    benchOne('drift (deseasonalised)', driftFactory(), series, points, values),
    benchOne('drift (raw)', driftFactory({ deseasonalize: false }), series, points, values),
  ];
}

function main(): void {
  const series = Number(process.argv[2] ?? 1000);
  const points = Number(process.argv[3] ?? 2000);
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  console.log(
    `detectors: ${series} series x ${points} points (node ${process.version}${hasGc ? ', gc exposed' : ', run with --expose-gc for steadier memory figures'})`,
  );
  for (const r of runDetectBench(series, points)) {
    console.log(
      `${r.detector.padEnd(24)} ${r.nsPerPoint.toFixed(0).padStart(5)} ns/point  ${(1e3 / r.nsPerPoint).toFixed(2).padStart(6)} M points/s/core  ` +
        `state ${String(r.stateBytesPerSeries).padStart(5)} B/series (measured ${r.measuredBytesPerSeries === undefined ? 'n/a' : `${r.measuredBytesPerSeries} B`})  ` +
        `snapshot ${r.snapshotBytesPerSeries} B`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
