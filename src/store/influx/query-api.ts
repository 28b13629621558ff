/**
 * The read side of a server-backed store: a small client of the Prometheus-compatible HTTP API
 * that VictoriaMetrics serves (`/api/v1/export` for raw points, `/api/v1/query` for instant
 * MetricsQL queries). Any error names the URL and what the server said.
 */

/** Options of {@link createQueryApi}. */
export interface QueryApiOptions {
  /** base URL, e.g. http://127.0.0.1:8428 (VictoriaMetrics) or http://vmselect:8481/select/0/prometheus */
  url: string;
  /** sent as `Authorization: Bearer <token>` when set */
  token?: string;
  /** per request (default 30 s) */
  timeoutMs?: number;
}

/** One series of an export: its labels and raw samples. */
export interface ExportedSeries {
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
}

/** One element of an instant query's vector result. */
export interface InstantSample {
  labels: Record<string, string>;
  value: number;
}

/** The query API client. */
export interface QueryApi {
  readonly url: string;
  /** raw samples of the series matching `selector` with startMs <= ts <= endMs (both whole ms; undefined: unbounded) */
  exportRaw(selector: string, startMs: number | undefined, endMs: number | undefined): Promise<ExportedSeries[]>;
  /** an instant query evaluated at `timeMs` */
  instant(query: string, timeMs: number): Promise<InstantSample[]>;
}

/** The latest export end VictoriaMetrics accepts (9999-12-31T23:59:59Z). */
const MAX_END_SECONDS = 253402300799;

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** Creates a client of the Prometheus-compatible query API at `options.url`. */
export function createQueryApi(options: QueryApiOptions): QueryApi {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  /** GET of `path`: the body of a 200 answer, else an error naming the URL and what went wrong */
  const ok = async (path: string, params: URLSearchParams): Promise<string> => {
    let res: Response;
    let body: string;
    try {
      res = await fetch(`${base}${path}?${params.toString()}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`query API ${base}: ${path} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err });
    }
    if (res.status !== 200) throw new Error(`query API ${base}: ${path} answered HTTP ${res.status}: ${body.slice(0, 300)}`);
    return body;
  };

  return {
    url: base,
    async exportRaw(selector, startMs, endMs) {
      const params = new URLSearchParams({ 'match[]': selector });
      if (startMs !== undefined && startMs > 0) params.set('start', seconds(startMs));
      params.set('end', endMs === undefined ? String(MAX_END_SECONDS) : seconds(endMs));
      const body = await ok('/api/v1/export', params);
      const out: ExportedSeries[] = [];
      for (const line of body.split('\n')) {
        if (line.trim() === '') continue;
        let row: {
          metric?: Record<string, string>;
          values?: Array<number | string>;
          timestamps?: number[];
        };
        try {
          row = JSON.parse(line) as typeof row;
        } catch (err) {
          throw new Error(`query API ${base}: /api/v1/export sent a line that is not JSON: ${line.slice(0, 200)}`, { cause: err });
        }
        out.push({
          labels: row.metric ?? {},
          timestamps: row.timestamps ?? [],
          values: (row.values ?? []).map((v) => (typeof v === 'number' ? v : Number(v))),
        });
      }
      return out;
    },
    async instant(query, timeMs) {
      const body = await ok('/api/v1/query', new URLSearchParams({ query, time: seconds(timeMs) }));
      let parsed: {
        status?: string;
        error?: string;
        data?: {
          resultType?: string;
          result?: Array<{
            metric?: Record<string, string>;
            value?: [number, string];
          }>;
        };
      };
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch (err) {
        throw new Error(`query API ${base}: /api/v1/query answered something that is not JSON: ${body.slice(0, 200)}`, { cause: err });
      }
      if (parsed.status !== 'success' || parsed.data?.resultType !== 'vector') {
        throw new Error(`query API ${base}: query ${query} failed: ${parsed.error ?? body.slice(0, 300)}`);
      }
      return (parsed.data.result ?? []).map((r) => ({
        labels: r.metric ?? {},
        value: Number(r.value?.[1]),
      }));
    },
  };
}
