/**
 * The influx writer: line protocol in, acknowledged once spooled (spool.ts), delivered in the
 * background through `@influxdata/influxdb-client`'s WriteApi (gzip, HTTP keep-alive, precision
 * ms) to any server that speaks the InfluxDB v2 write API (VictoriaMetrics, InfluxDB 2.x/3.x).
 *
 * Batching: a batch is what the spool holds past the cursor, up to `maxBatchBytes`, so a busy
 * writer sends few large requests and an idle one sends each write at once.
 * Retries: the spool is the retry buffer. A failed request is retried from the spool with
 * exponential backoff (`minRetryDelayMs` doubling to `maxRetryDelayMs`) for as long as it takes;
 * the client's own in-memory retry buffer is off (it would drop lines once full). A batch the
 * server refuses as bad data (400, 413, 422) is split in halves down to single lines, and only
 * the lines refused on their own are dropped and reported.
 */
import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { comparePositions, openSpool, type Spool, type SpoolPosition } from './spool.ts';

/** Where and how to write. */
export interface InfluxWriterOptions {
  /** base URL of the write API, e.g. http://127.0.0.1:8428 (VictoriaMetrics) or http://localhost:8086 (InfluxDB 2) */
  url: string;
  token?: string;
  org: string;
  bucket: string;
  /** the spool folder (created if missing) */
  spoolDir: string;
  /** upper bound of one request's body before compression (default 4 MiB) */
  maxBatchBytes?: number;
  /** first retry delay after a failed request (default 200 ms) */
  minRetryDelayMs?: number;
  /** longest retry delay (default 5 s) */
  maxRetryDelayMs?: number;
  /** HTTP timeout of one request (default 30 s) */
  timeoutMs?: number;
  /** fdatasync spool appends (default true) */
  fsync?: boolean;
  /** spool segment size (default 64 MiB) */
  segmentBytes?: number;
  /** told when delivery starts failing (then at most every 30 s while it keeps failing) and about dropped lines */
  onError?: (error: Error) => void;
}

/** Delivery counters. */
export interface InfluxWriterStats {
  /** spooled bytes not yet acknowledged by the server */
  pendingBytes: number;
  /** points appended to the spool by this process */
  spooledPoints: number;
  /** points the server acknowledged */
  deliveredPoints: number;
  requests: number;
  failedRequests: number;
  /** lines the server refused as bad data on their own (dropped) */
  droppedLines: number;
  /** false while the last delivery attempt failed */
  healthy: boolean;
  lastError?: string;
  /** wall time of the last acknowledged request */
  lastDeliveryWallMs?: number;
}

/** The write side of a server-backed store, shared by the store and the output sink. */
export interface InfluxWriter {
  readonly url: string;
  /** appends line protocol (`\n`-separated, holding `points` points); resolves once spooled (fdatasync'ed when durable) */
  append(lines: string, points: number, durable?: boolean): Promise<void>;
  /**
   * waits until everything appended before the call is acknowledged by the server; false when
   * `timeoutMs` passed first
   */
  sync(timeoutMs: number): Promise<boolean>;
  /** incremented on every acknowledged request (readers use it to know whether new data arrived) */
  deliveries(): number;
  stats(): InfluxWriterStats;
  /**
   * stops taking appends, tries to deliver what is spooled for up to `drainTimeoutMs` (default 5 s),
   * then stops; what is left stays in the spool for the next start
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Statuses that mean "this data is refused", not "try again later". */
const BAD_DATA = new Set([400, 413, 422]);

function explain(err: unknown): string {
  if (err instanceof HttpError) return `HTTP ${err.statusCode}${err.body ? `: ${err.body.slice(0, 300)}` : ''}`;
  const e = err as { message?: string; code?: string };
  return e?.code ? `${e.code} ${e.message ?? ''}`.trim() : (e?.message ?? String(err));
}

/** Creates the writer and starts delivering whatever its spool already holds. */
export function createInfluxWriter(options: InfluxWriterOptions): InfluxWriter {
  const maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
  const minDelay = options.minRetryDelayMs ?? 200;
  const maxDelay = options.maxRetryDelayMs ?? 5000;
  const onError = options.onError ?? ((e: Error) => console.error(`forewarn: ${e.message}`));
  const spool: Spool = openSpool({
    dir: options.spoolDir,
    onError,
    ...(options.fsync !== undefined ? { fsync: options.fsync } : {}),
    ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
  });

  const influx = new InfluxDB({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    timeout: options.timeoutMs ?? 30_000,
  });
  const api: WriteApi = influx.getWriteApi(options.org, options.bucket, 'ms', {
    // batches are cut here (from the spool); the client's buffer must never flush on its own
    batchSize: 20_000,
    maxBatchBytes: 2 ** 30,
    flushInterval: 0,
    maxRetries: 0,
    maxBufferLines: 1,
    gzipThreshold: 1024,
    // a returned promise replaces the client's retry logic: the failure goes to our loop
    writeFailed: (error: Error) => Promise.reject(error),
  });

  const counters = {
    spooledPoints: 0,
    deliveredPoints: 0,
    requests: 0,
    failedRequests: 0,
    droppedLines: 0,
  };
  let healthy = true;
  let lastError: string | undefined;
  let lastDeliveryWallMs: number | undefined;
  let lastReportWallMs = 0;
  let deliveries = 0;
  let stopping = false;
  let wakeStop: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (wakeStop = resolve));
  let waiters: Array<{
    target: SpoolPosition;
    resolve: (ok: boolean) => void;
  }> = [];

  const wakeWaiters = () => {
    const c = spool.cursor();
    const keep: typeof waiters = [];
    for (const w of waiters) {
      if (comparePositions(c, w.target) >= 0) w.resolve(true);
      else keep.push(w);
    }
    waiters = keep;
  };

  /** one request through the WriteApi */
  const post = async (records: string[]): Promise<void> => {
    counters.requests += 1;
    api.writeRecords(records);
    await api.flush();
  };

  /** sends texts; on a bad-data refusal, bisects down to single lines and drops only those */
  const deliver = async (texts: string[]): Promise<void> => {
    try {
      await post(texts);
    } catch (err) {
      if (!(err instanceof HttpError) || !BAD_DATA.has(err.statusCode)) throw err;
      if (texts.length > 1) {
        const mid = texts.length >> 1;
        await deliver(texts.slice(0, mid));
        await deliver(texts.slice(mid));
        return;
      }
      const lines = texts[0]!.split('\n');
      if (lines.length > 1) {
        const mid = lines.length >> 1;
        await deliver([lines.slice(0, mid).join('\n')]);
        await deliver([lines.slice(mid).join('\n')]);
        return;
      }
      counters.droppedLines += 1;
      onError(
        new Error(`influx writer: ${options.url} refused a line, dropped it (${explain(err)}): ${lines[0]!.slice(0, 200)}`, { cause: err }),
      );
    }
  };

  /** splits one spooled text that is larger than a request into requests of whole lines */
  const requestsOf = (payloads: Buffer[]): string[][] => {
    const out: string[][] = [];
    let current: string[] = [];
    let bytes = 0;
    for (const p of payloads) {
      if (p.length > maxBatchBytes) {
        if (current.length > 0) out.push(current);
        current = [];
        bytes = 0;
        // one huge write: whole lines, about maxBatchBytes per request
        let part: string[] = [];
        let n = 0;
        for (const line of p.toString('utf8').split('\n')) {
          if (n + line.length > maxBatchBytes && part.length > 0) {
            out.push([part.join('\n')]);
            part = [];
            n = 0;
          }
          part.push(line);
          n += line.length + 1;
        }
        if (part.length > 0) out.push([part.join('\n')]);
        continue;
      }
      current.push(p.toString('utf8'));
      bytes += p.length;
      if (bytes >= maxBatchBytes) {
        out.push(current);
        current = [];
        bytes = 0;
      }
    }
    if (current.length > 0) out.push(current);
    return out;
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      void stopped.then(() => {
        clearTimeout(t);
        resolve();
      });
    });

  const loop = (async () => {
    let delay = minDelay;
    while (!stopping) {
      let batch;
      try {
        batch = await spool.read(spool.cursor(), maxBatchBytes);
      } catch (err) {
        onError(new Error(`influx writer: cannot read the spool in ${spool.dir}: ${(err as Error).message}`, { cause: err }));
        await pause(maxDelay);
        continue;
      }
      if (!batch) {
        await Promise.race([spool.waitForAppend(), stopped]);
        continue;
      }
      try {
        for (const request of requestsOf(batch.payloads)) await deliver(request);
      } catch (err) {
        counters.failedRequests += 1;
        lastError = explain(err);
        const now = Date.now();
        if (healthy || now - lastReportWallMs >= 30_000) {
          lastReportWallMs = now;
          onError(
            new Error(
              `influx writer: cannot deliver to ${options.url} (${lastError}); keeping ${spool.stats().pendingBytes} bytes in the spool ${spool.dir} and retrying`,
              { cause: err },
            ),
          );
        }
        healthy = false;
        if (stopping) break;
        await pause(delay * (0.8 + 0.4 * Math.random()));
        delay = Math.min(maxDelay, delay * 2);
        continue;
      }
      healthy = true;
      delay = minDelay;
      if (batch.payloads.length > 0) deliveries += 1;
      counters.deliveredPoints += batch.points;
      lastDeliveryWallMs = Date.now();
      await spool.ack(batch.end);
      wakeWaiters();
    }
  })();

  const sync = async (timeoutMs: number): Promise<boolean> => {
    const target = await spool.end();
    if (comparePositions(spool.cursor(), target) >= 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w.resolve !== done);
        resolve(false);
      }, timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      waiters.push({ target, resolve: done });
    });
  };

  let closing: Promise<void> | undefined;
  return {
    url: options.url,
    async append(lines, points, durable = true) {
      if (stopping) throw new Error(`influx writer: closed (spool ${spool.dir})`);
      await spool.append(Buffer.from(lines, 'utf8'), points, durable);
      counters.spooledPoints += points;
    },
    sync,
    deliveries: () => deliveries,
    stats() {
      const s: InfluxWriterStats = {
        pendingBytes: spool.stats().pendingBytes,
        ...counters,
        healthy,
      };
      if (lastError !== undefined) s.lastError = lastError;
      if (lastDeliveryWallMs !== undefined) s.lastDeliveryWallMs = lastDeliveryWallMs;
      return s;
    },
    close(drainTimeoutMs = 5000) {
      closing ??= (async () => {
        // appends already queued land first; what the server does not take in time stays spooled
        if (healthy) await sync(drainTimeoutMs);
        else await spool.end();
        stopping = true;
        wakeStop?.();
        // an in-flight request may hang until its timeout: do not wait for it past a second
        await Promise.race([loop, new Promise((r) => setTimeout(r, 1000).unref())]);
        for (const w of waiters) w.resolve(false);
        waiters = [];
        api.dispose();
        await spool.close();
      })();
      return closing;
    },
  };
}
