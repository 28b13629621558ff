/**
 * The time-series store interface: raw points per account x metric, with retention and range
 * queries. Implementations: `embedded/` (SQLite file, the default), `influx/` (any InfluxDB v2 write API
 * server, read back through PromQL: VictoriaMetrics) and `memory/` (tests). Every implementation passes `contract.ts`.
 */
import type { Point, SeriesKey } from '../domain/types.ts';

/** A range of one series, in time order. */
export interface SeriesRange {
  tsMs: Float64Array;
  values: Float64Array;
}

export interface SeriesInfo extends SeriesKey {
  points: number;
  firstMs: number;
  lastMs: number;
}

export interface TimeSeriesStore {
  /**
   * Durably stores the points: when the promise resolves, a crash must not lose them.
   * Points of one call are stored all or none.
   */
  write(points: readonly Point[]): Promise<void>;
  /** points of one series with fromMs <= ts < toMs, sorted by time; duplicates (same ts) keep the last written */
  query(key: SeriesKey, fromMs: number, toMs: number): Promise<SeriesRange>;
  /** known series, optionally of one account */
  listSeries(account?: string): Promise<SeriesInfo[]>;
  /** number of distinct metrics stored for an account (used by the per-account series limit) */
  seriesCount(account: string): Promise<number>;
  /** deletes points older than `beforeMs` (event time) */
  deleteBefore(beforeMs: number): Promise<void>;
  close(): Promise<void>;
}
