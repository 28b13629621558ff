/**
 * The start-up check of a server-backed store: is the write endpoint reachable and an
 * InfluxDB-compatible server, does it take our token and bucket, and does the query endpoint
 * answer PromQL. A failure is an EnvError naming the setting to fix (INFLUX_URL, INFLUX_TOKEN,
 * INFLUX_BUCKET / INFLUX_ORG, FOREWARN_QUERY_URL), so a wrong setting stops the start, not the
 * first ingest.
 */
import { EnvError } from '../../config/server-config.ts';

/** What is checked (the influx part of the server configuration). */
export interface ServerCheckSettings {
  url: string;
  token?: string;
  org: string;
  bucket: string;
  queryUrl: string;
}

/** Options of {@link checkInfluxServer}. */
export interface ServerCheckOptions {
  /** per request (default 5 s) */
  timeoutMs?: number;
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: (await res.text()).slice(0, 300) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { error: `no answer within ${timeoutMs} ms` };
    return { error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

/** Checks the servers behind the settings; throws an EnvError naming the setting that is wrong. */
export async function checkInfluxServer(s: ServerCheckSettings, options: ServerCheckOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const base = s.url.replace(/\/+$/, '');
  const auth: Record<string, string> = s.token ? { authorization: `Token ${s.token}` } : {};

  // reachable, and something that looks like an InfluxDB-compatible server
  const health = await call(`${base}/health`, {}, timeoutMs);
  if ('error' in health) throw new EnvError('INFLUX_URL', `cannot reach the time-series server at ${base} (${health.error})`);
  if (health.status < 200 || health.status >= 300) {
    const ping = await call(`${base}/ping`, {}, timeoutMs);
    if ('error' in ping || ping.status < 200 || ping.status >= 300) {
      throw new EnvError(
        'INFLUX_URL',
        `${base} does not look like an InfluxDB-compatible server: /health answered ${health.status}, /ping answered ${'error' in ping ? ping.error : ping.status}`,
      );
    }
  }

  // permission to write: an empty write exercises the token, org and bucket without storing anything
  const params = new URLSearchParams({
    org: s.org,
    bucket: s.bucket,
    precision: 'ms',
  });
  const write = await call(
    `${base}/api/v2/write?${params}`,
    {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain; charset=utf-8' },
      body: '',
    },
    timeoutMs,
  );
  if ('error' in write) throw new EnvError('INFLUX_URL', `cannot reach the write API at ${base}/api/v2/write (${write.error})`);
  if (write.status === 401 || write.status === 403) {
    throw new EnvError(
      'INFLUX_TOKEN',
      `the server at ${base} refused to let us write (HTTP ${write.status}${s.token ? '' : '; no token is set'}): ${write.body}`,
    );
  }
  if (write.status === 404) {
    throw new EnvError(
      'INFLUX_BUCKET',
      `the server at ${base} has no bucket "${s.bucket}" in org "${s.org}" (INFLUX_BUCKET / INFLUX_ORG), or no InfluxDB v2 write API (HTTP 404): ${write.body}`,
    );
  }
  // 400: the server parsed our (empty) body, so the credentials were accepted
  if (write.status >= 300 && write.status !== 400) {
    throw new EnvError('INFLUX_URL', `the write API at ${base}/api/v2/write answered HTTP ${write.status}: ${write.body}`);
  }

  // permission to query, in PromQL
  const qbase = s.queryUrl.replace(/\/+$/, '');
  const qauth: Record<string, string> = s.token ? { authorization: `Bearer ${s.token}` } : {};
  const query = await call(`${qbase}/api/v1/query?query=1`, { headers: qauth }, timeoutMs);
  if ('error' in query) throw new EnvError('FOREWARN_QUERY_URL', `cannot reach the query API at ${qbase} (${query.error})`);
  if (query.status === 401 || query.status === 403) {
    throw new EnvError(
      'FOREWARN_QUERY_URL',
      `the query API at ${qbase} refused our token (HTTP ${query.status}; the token is INFLUX_TOKEN)`,
    );
  }
  let ok = false;
  try {
    ok = query.status === 200 && (JSON.parse(query.body) as { status?: string }).status === 'success';
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new EnvError(
      'FOREWARN_QUERY_URL',
      `${qbase} does not answer PromQL queries (/api/v1/query answered HTTP ${query.status}); InfluxDB 2.x/3.x cannot serve Forewarn's reads: ` +
        'point FOREWARN_QUERY_URL at VictoriaMetrics (or another Prometheus-compatible query API)',
    );
  }
}
