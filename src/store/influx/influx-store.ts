/**
 * The server-backed time-series store: writes go through the influx writer (spooled locally,
 * acknowledged once fdatasync'ed, delivered in the background over the InfluxDB v2 write API);
 * reads go to a Prometheus-compatible query API (VictoriaMetrics: `/api/v1/export` for raw points,
 * MetricsQL rollups for the series list).
 *
 * A point `{account, metric, tsMs, value}` is written as `usage,account=<account> <metric>=<value> <ms>`,
 * which VictoriaMetrics stores as `usage_<metric>{account="<account>"}`.
 *
 * Where it differs from the embedded store (the contract suite runs with these capabilities):
 * - read-your-writes: a read first waits (up to `readSyncTimeoutMs`) until the spool is delivered,
 *   then asks VictoriaMetrics to make fresh data searchable (`/internal/force_flush`; skipped
 *   for servers without it, where fresh points show up after a second or so);
 * - timestamps are whole milliseconds after 1970-01-01 (a zero or negative one is refused);
 * - values keep about 12 significant digits (VictoriaMetrics' compression), and -0 reads as 0;
 * - of duplicate timestamps the server keeps one value, not necessarily the last written;
 * - `deleteBefore` does nothing: retention is the server's (VictoriaMetrics `-retentionPeriod`);
 * - `listSeries` and `seriesCount` see points from `listWindowMs` before now to `listFutureMs` after.
 */
import type { Point, SeriesKey } from '../../domain/types.ts';
import type { SeriesInfo, SeriesRange, TimeSeriesStore } from '../time-series-store.ts';
import { createInfluxWriter, type InfluxWriter, type InfluxWriterOptions, type InfluxWriterStats } from './influx-writer.ts';
import { createLineCache, formatPoints, promString, regexLiteral, unwritableReason } from './line-format.ts';
import { createQueryApi, type QueryApi } from './query-api.ts';

/** Options of {@link createInfluxStore}. */
export interface InfluxStoreOptions extends InfluxWriterOptions {
  /** Prometheus-compatible query API (default: `url`) */
  queryUrl?: string;
  /** measurement of raw points (default `usage`); metric names become `<measurement>_<metric>` */
  measurement?: string;
  /** how far back the series list looks (default 400 days; use the retention) */
  listWindowMs?: number;
  /** how far ahead of now the series list looks (default 1 day) */
  listFutureMs?: number;
  /** how long a read waits for spooled points to reach the server first (default 5 s) */
  readSyncTimeoutMs?: number;
  /** ask the server to make fresh points searchable before a read (default true; VictoriaMetrics single-node) */
  forceFlush?: boolean;
  /** how long `close()` keeps delivering the spool before leaving the rest for the next start (default 5 s) */
  closeDrainMs?: number;
  /** wall clock (default Date.now) */
  nowMs?: () => number;
}

/** The server-backed store plus what the output sink and diagnostics need. */
export interface InfluxStore extends TimeSeriesStore {
  /** the writer, shared with the output sink */
  readonly writer: InfluxWriter;
  readonly queryApi: QueryApi;
  stats(): InfluxWriterStats;
}

const DAY_MS = 86_400_000;

const empty = (): SeriesRange => ({
  tsMs: new Float64Array(0),
  values: new Float64Array(0),
});

/** Creates the store; its spool is replayed to the server in the background. */
export function createInfluxStore(options: InfluxStoreOptions): InfluxStore {
  const measurement = options.measurement ?? 'usage';
  const prefix = `${measurement}_`;
  const listWindowMs = options.listWindowMs ?? 400 * DAY_MS;
  const listFutureMs = options.listFutureMs ?? DAY_MS;
  const readSyncTimeoutMs = options.readSyncTimeoutMs ?? 5000;
  const nowMs = options.nowMs ?? Date.now;
  const writer = createInfluxWriter(options);
  const api = createQueryApi({
    url: options.queryUrl ?? options.url,
    ...(options.token ? { token: options.token } : {}),
  });
  const writeBase = options.url.replace(/\/+$/, '');
  const cache = createLineCache();
  let forceFlush = options.forceFlush ?? true;
  let flushedAt = -1;
  let closed = false;

  const ensureOpen = () => {
    if (closed) throw new Error(`influx store: the store is closed (${writeBase})`);
  };

  /** read-your-writes: spooled points delivered and searchable before a read */
  const settle = async (): Promise<void> => {
    if (writer.stats().healthy) await writer.sync(readSyncTimeoutMs);
    const delivered = writer.deliveries();
    if (!forceFlush || delivered === flushedAt) return;
    flushedAt = delivered;
    try {
      const res = await fetch(`${writeBase}/internal/force_flush`, {
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      // servers without it (InfluxDB, vminsert) make fresh data visible on their own schedule
      if (res.status === 404 || res.status === 405 || res.status === 400) forceFlush = false;
    } catch {
      // the read itself will say what is wrong
    }
  };

  const selector = (account: string | undefined, metric?: string): string =>
    `{__name__${metric === undefined ? `=~${promString(`${regexLiteral(prefix)}.+`)}` : `=${promString(prefix + metric)}`}` +
    `${account === undefined ? ',account!=""' : `,account=${promString(account)}`}}`;

  const listSeries = async (account?: string): Promise<SeriesInfo[]> => {
    ensureOpen();
    await settle();
    const at = nowMs() + listFutureMs;
    const sel = `${selector(account)}[${Math.round(listWindowMs + listFutureMs)}ms]`;
    const rollup = (fn: string) => api.instant(`${fn}(${sel}) keep_metric_names`, at);
    const [counts, firsts, lasts] = await Promise.all([rollup('count_over_time'), rollup('tfirst_over_time'), rollup('tlast_over_time')]);
    const byKey = new Map<string, SeriesInfo>();
    const keyOf = (l: Record<string, string>) => `${l.__name__ ?? ''}\u0000${l.account ?? ''}`;
    for (const c of counts) {
      const name = c.labels.__name__;
      const acct = c.labels.account;
      if (name === undefined || acct === undefined || !name.startsWith(prefix) || !(c.value > 0)) continue;
      byKey.set(keyOf(c.labels), {
        account: acct,
        metric: name.slice(prefix.length),
        points: c.value,
        firstMs: NaN,
        lastMs: NaN,
      });
    }
    for (const f of firsts) {
      const s = byKey.get(keyOf(f.labels));
      if (s) s.firstMs = Math.round(f.value * 1000);
    }
    for (const l of lasts) {
      const s = byKey.get(keyOf(l.labels));
      if (s) s.lastMs = Math.round(l.value * 1000);
    }
    return [...byKey.values()].sort((a, b) =>
      a.account !== b.account ? (a.account < b.account ? -1 : 1) : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0,
    );
  };

  return {
    writer,
    queryApi: api,
    stats: () => writer.stats(),

    async write(points: readonly Point[]) {
      ensureOpen();
      if (points.length === 0) return;
      for (let i = 0; i < points.length; i++) {
        const why = unwritableReason(points[i]!);
        if (why !== undefined) {
          const p = points[i]!;
          throw new Error(
            `influx store: point ${i} of ${points.length} (${p.account}/${p.metric}) has ${why}; nothing of this write was stored`,
          );
        }
      }
      await writer.append(formatPoints(measurement, points, cache), points.length, true);
    },

    async query(key: SeriesKey, fromMs: number, toMs: number) {
      ensureOpen();
      // stored timestamps are whole ms: [from, to) holds ts with ceil(from) <= ts <= ceil(to) - 1
      const lo = Number.isFinite(fromMs) ? Math.ceil(fromMs) : fromMs;
      const hi = Number.isFinite(toMs) ? Math.ceil(toMs) - 1 : toMs;
      if (!(lo <= hi) || hi < 1) return empty();
      await settle();
      const rows = await api.exportRaw(
        selector(key.account, key.metric),
        Number.isFinite(lo) ? lo : undefined,
        Number.isFinite(hi) ? hi : undefined,
      );
      const ts: number[] = [];
      const vs: number[] = [];
      for (const r of rows) {
        // the selector is exact; the label check guards against servers that rewrite names
        if (r.labels.account !== key.account || r.labels.__name__ !== prefix + key.metric) continue;
        for (let i = 0; i < r.timestamps.length; i++) {
          const t = r.timestamps[i]!;
          if (t >= fromMs && t < toMs) {
            ts.push(t);
            vs.push(r.values[i]!);
          }
        }
      }
      // a series may come in several blocks; sort stably and keep one value per timestamp
      const order = ts.map((_, i) => i).sort((a, b) => ts[a]! - ts[b]! || a - b);
      const outTs: number[] = [];
      const outVs: number[] = [];
      for (const i of order) {
        if (outTs.length > 0 && outTs[outTs.length - 1] === ts[i]) outVs[outVs.length - 1] = vs[i]!;
        else {
          outTs.push(ts[i]!);
          outVs.push(vs[i]!);
        }
      }
      return {
        tsMs: Float64Array.from(outTs),
        values: Float64Array.from(outVs),
      };
    },

    listSeries,

    async seriesCount(account: string) {
      return (await listSeries(account)).length;
    },

    async deleteBefore() {
      // retention is the server's (VictoriaMetrics -retentionPeriod, an InfluxDB bucket's retention)
      ensureOpen();
    },

    async close() {
      if (closed) return;
      closed = true;
      await writer.close(options.closeDrainMs ?? 5000);
    },
  };
}
