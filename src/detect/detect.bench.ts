/**
 * Detector benchmark: prints ns/point and bytes/series for the detectors over many series, fed
 * the way the engine feeds them (time-major: every series gets its point for one timestamp, then
 * the next timestamp). A script that prints figures, not a test.
 *
 *   node --expose-gc --import tsx src/detect/detect.bench.ts [series] [points]
 *
 * The memory figure comes from a second pass over every kind, after all the timed passes: the
 * heap (JS heap + array buffers) after a fresh set of detectors has been fed the same points,
 * minus the heap before they were created. Measured so, what compiling the code leaves on the
 * heap (optimised code, type feedback) is not charged to the detectors. Without --expose-gc it is
 * not measured. `runDetectBench()` is exported for `bench/run.ts`.
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
  /** heap + array buffers per detector, from the memory pass (see the module comment); undefined unless run with --expose-gc */
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

/**
 * feeds every detector its points, time-major (every series one point, then the next timestamp);
 * returns the sum of the scores, so the work cannot be optimised away
 */
function feed(detectors: Array<SeriesDetector | undefined>, points: number, values: Float64Array): number {
  const series = detectors.length;
  let checksum = 0;
  for (let j = 0; j < points; j++) {
    const ts = START_MS + j * STEP_MS;
    const row = j * series;
    for (let i = 0; i < series; i++) checksum += (detectors[i] as SeriesDetector).update(ts, values[row + i] as number).score;
  }
  return checksum;
}

/** the timed pass: fresh detectors fed every point; the figures but the memory one */
function timeOne(name: string, factory: DetectorFactory, series: number, points: number, values: Float64Array): DetectBenchResult {
  // warm the JIT first, so the timing does not include compilation
  for (let k = 0; k < 3; k++) {
    const warmup = factory.create();
    for (let j = 0; j < 5000; j++) warmup.update(START_MS + j * STEP_MS, values[(j * 31 + k) % values.length] as number);
  }
  const detectors = new Array<SeriesDetector | undefined>(series).fill(undefined);
  for (let i = 0; i < series; i++) detectors[i] = factory.create();
  const t0 = performance.now();
  const checksum = feed(detectors, points, values);
  const elapsedMs = performance.now() - t0;
  const stateBytes = detectors.reduce((a, d) => a + (d as SeriesDetector).stateBytes, 0) / series;
  return {
    detector: name,
    series,
    pointsPerSeries: points,
    nsPerPoint: (elapsedMs * 1e6) / (series * points),
    stateBytesPerSeries: Math.round(stateBytes),
    measuredBytesPerSeries: undefined,
    snapshotBytesPerSeries: (detectors[0] as SeriesDetector).snapshot().length,
    checksum,
  };
}

/** the memory pass: heap growth per detector over creating fresh detectors and feeding them every point */
function measureOne(factory: DetectorFactory, series: number, points: number, values: Float64Array): number {
  const detectors = new Array<SeriesDetector | undefined>(series).fill(undefined);
  const before = heapNow();
  for (let i = 0; i < series; i++) detectors[i] = factory.create();
  feed(detectors, points, values);
  const after = heapNow();
  // keep the detectors alive until after the measurement
  if (detectors[series - 1] === undefined) throw new Error('unreachable');
  return Math.round((after - before) / series);
}

/** Runs the benchmark for every detector kind and returns the figures. */
export function runDetectBench(series = 1000, points = 2000): DetectBenchResult[] {
  const values = makeValues(series, points);
  const kinds: Array<[string, DetectorFactory]> = [
    ['combined', combinedFactory()],
    ['combined (reuseResult)', combinedFactory({ reuseResult: true })],
    ['seasonal', seasonalFactory()],
    ['drift (deseasonalised)', driftFactory()],
    ['drift (raw)', driftFactory({ deseasonalize: false })],
  ];
  const results = kinds.map(([name, factory]) => timeOne(name, factory, series, points, values));
  // memory after every timed pass, when the JIT has settled: a memory pass run while code is
  // still being compiled or deoptimised charges the detectors a few hundred bytes each of it
  if (typeof (globalThis as { gc?: unknown }).gc === 'function') {
    kinds.forEach(
      ([, factory], k) => ((results[k] as DetectBenchResult).measuredBytesPerSeries = measureOne(factory, series, points, values)),
    );
  }
  return results;
}

function main(): void {
  const series = Number(process.argv[2] ?? 1000);
  const points = Number(process.argv[3] ?? 2000);
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  console.log(
    `detectors: ${series} series x ${points} points (node ${process.version}${hasGc ? ', gc exposed' : ', run with --expose-gc for memory figures'})`,
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
