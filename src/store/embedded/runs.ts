/**
 * Helpers on runs of one series (parallel timestamp / value arrays): sorting with "last written
 * wins" deduplication, merging and concatenation. Pure functions on typed arrays.
 */
import type { SeriesRange } from '../time-series-store.ts';

/** A fresh empty run. */
export const emptyRun = (): SeriesRange => ({ tsMs: new Float64Array(0), values: new Float64Array(0) });

/** Index of the first element of sorted `a` that is >= x. */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The part of a sorted run with fromMs <= ts < toMs (a view, not a copy). */
export function sliceRun(run: SeriesRange, fromMs: number, toMs: number): SeriesRange {
  const lo = lowerBound(run.tsMs, fromMs);
  const hi = lowerBound(run.tsMs, toMs);
  if (lo === 0 && hi === run.tsMs.length) return run;
  return { tsMs: run.tsMs.subarray(lo, hi), values: run.values.subarray(lo, hi) };
}

/**
 * Sorts a run given in write order by time and drops duplicate timestamps, keeping the value
 * written last. `strictlyIncreasing` says the run is already sorted without duplicates.
 */
export function sortDedup(run: SeriesRange, strictlyIncreasing: boolean): SeriesRange {
  if (strictlyIncreasing) return run;
  const { tsMs, values } = run;
  const n = tsMs.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // ties broken by write order, so the last of a run of equal timestamps is the last written
  order.sort((a, b) => tsMs[a]! - tsMs[b]! || a - b);
  const outTs = new Float64Array(n);
  const outValues = new Float64Array(n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const t = tsMs[i]!;
    if (m > 0 && outTs[m - 1] === t) {
      outValues[m - 1] = values[i]!;
    } else {
      outTs[m] = t;
      outValues[m++] = values[i]!;
    }
  }
  return { tsMs: outTs.subarray(0, m), values: outValues.subarray(0, m) };
}

/** Merges two sorted, duplicate-free runs; on equal timestamps `newer` wins. */
export function mergeRuns(older: SeriesRange, newer: SeriesRange): SeriesRange {
  const a = older.tsMs;
  const b = newer.tsMs;
  if (a.length === 0) return newer;
  if (b.length === 0) return older;
  if (a[a.length - 1]! < b[0]!) return concatRuns([older, newer]);
  const tsMs = new Float64Array(a.length + b.length);
  const values = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let m = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
      tsMs[m] = a[i]!;
      values[m++] = older.values[i++]!;
    } else {
      if (i < a.length && a[i] === b[j]) i++;
      tsMs[m] = b[j]!;
      values[m++] = newer.values[j++]!;
    }
  }
  return { tsMs: tsMs.subarray(0, m), values: values.subarray(0, m) };
}

/** Concatenates sorted runs that follow one another in time. */
export function concatRuns(runs: readonly SeriesRange[]): SeriesRange {
  if (runs.length === 1) return runs[0]!;
  let n = 0;
  for (const r of runs) n += r.tsMs.length;
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  let at = 0;
  for (const r of runs) {
    tsMs.set(r.tsMs, at);
    values.set(r.values, at);
    at += r.tsMs.length;
  }
  return { tsMs, values };
}
