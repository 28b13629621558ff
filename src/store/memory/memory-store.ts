/**
 * The in-memory time-series store, for tests and demos: a map of series, each a map of
 * timestamp -> value. Simple rather than fast; it passes the same contract as the embedded store.
 */
import type { Point, SeriesKey } from '../../domain/types.ts';
import type { SeriesInfo, SeriesRange, TimeSeriesStore } from '../time-series-store.ts';

/** A series held in memory: timestamp -> value (a later write of the same timestamp replaces it). */
type MemorySeries = Map<number, number>;

/** Creates an empty in-memory store. Nothing survives `close()`. */
export function createMemoryStore(): TimeSeriesStore {
  /** account -> metric -> points */
  const accounts = new Map<string, Map<string, MemorySeries>>();
  let closed = false;

  function ensureOpen(): void {
    if (closed) throw new Error('memory time-series store: the store is closed');
  }

  function validate(points: readonly Point[]): void {
    points.forEach((p, i) => {
      if (!Number.isFinite(p.tsMs) || !Number.isFinite(p.value)) {
        throw new Error(
          `memory time-series store: point ${i} of ${points.length} (${p.account}/${p.metric}) has a non-finite ` +
            `${Number.isFinite(p.tsMs) ? `value ${p.value}` : `timestamp ${p.tsMs}`}; nothing of this write was stored`,
        );
      }
      if (typeof p.account !== 'string' || typeof p.metric !== 'string' || p.account === '' || p.metric === '') {
        throw new Error(
          `memory time-series store: point ${i} of ${points.length} has an empty or non-string account or metric; nothing of this write was stored`,
        );
      }
    });
  }

  function info(account: string, metric: string, series: MemorySeries): SeriesInfo {
    let firstMs = Infinity;
    let lastMs = -Infinity;
    for (const ts of series.keys()) {
      if (ts < firstMs) firstMs = ts;
      if (ts > lastMs) lastMs = ts;
    }
    return { account, metric, points: series.size, firstMs, lastMs };
  }

  return {
    async write(points) {
      ensureOpen();
      // validate the whole batch first: a write is stored all or none
      validate(points);
      for (const p of points) {
        let metrics = accounts.get(p.account);
        if (metrics === undefined) {
          metrics = new Map();
          accounts.set(p.account, metrics);
        }
        let series = metrics.get(p.metric);
        if (series === undefined) {
          series = new Map();
          metrics.set(p.metric, series);
        }
        series.set(p.tsMs, p.value);
      }
    },

    async query(key: SeriesKey, fromMs: number, toMs: number): Promise<SeriesRange> {
      ensureOpen();
      const series = accounts.get(key.account)?.get(key.metric);
      const hits: [number, number][] = [];
      if (series !== undefined) for (const entry of series) if (entry[0] >= fromMs && entry[0] < toMs) hits.push(entry);
      hits.sort((a, b) => a[0] - b[0]);
      return { tsMs: Float64Array.from(hits, (h) => h[0]), values: Float64Array.from(hits, (h) => h[1]) };
    },

    async listSeries(account) {
      ensureOpen();
      const out: SeriesInfo[] = [];
      for (const [acc, metrics] of accounts) {
        if (account !== undefined && acc !== account) continue;
        for (const [metric, series] of metrics) out.push(info(acc, metric, series));
      }
      return out.sort((a, b) => (a.account === b.account ? cmp(a.metric, b.metric) : cmp(a.account, b.account)));
    },

    async seriesCount(account) {
      ensureOpen();
      return accounts.get(account)?.size ?? 0;
    },

    async deleteBefore(beforeMs) {
      ensureOpen();
      for (const [acc, metrics] of accounts) {
        for (const [metric, series] of metrics) {
          for (const ts of series.keys()) if (ts < beforeMs) series.delete(ts);
          if (series.size === 0) metrics.delete(metric);
        }
        if (metrics.size === 0) accounts.delete(acc);
      }
    },

    async close() {
      closed = true;
      accounts.clear();
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
