/**
 * The influx writer on a real VictoriaMetrics: small writes are batched into few requests, one
 * write larger than a request is sent as several requests of whole lines, and an unreachable
 * server costs no acknowledged write: it is reported once, retried, and the spool keeps the lines.
 */
import { describe, expect, it } from 'vitest';
import { freePort, useVictoriaMetrics } from '../../../test/support/victoria-metrics.ts';
import { createInfluxWriter, type InfluxWriterOptions } from './influx-writer.ts';
import { createQueryApi } from './query-api.ts';

const { vm, tempDir } = useVictoriaMetrics(['-dedup.minScrapeInterval=1ms']);

function options(extra: Partial<InfluxWriterOptions> = {}): InfluxWriterOptions {
  return {
    url: vm.url,
    org: 'o',
    bucket: 'b',
    spoolDir: tempDir('forewarn-writer-'),
    minRetryDelayMs: 20,
    maxRetryDelayMs: 100,
    ...extra,
  };
}

const now = Math.floor(Date.now() / 1000) * 1000 - 600_000;

async function count(selector: string): Promise<number> {
  await vm.flush();
  const r = await createQueryApi({ url: vm.url }).instant(`sum(count_over_time(${selector}[1h]))`, now + 60_000);
  return r[0]?.value ?? 0;
}

describe('influx writer', () => {
  it('batches writes that pile up while a request is in flight into few requests', async () => {
    const w = createInfluxWriter(options());
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => w.append(`batched,account=a v=${i} ${now + i}`, 1)));
      expect(await w.sync(10_000)).toBe(true);
      expect(w.stats()).toMatchObject({
        spooledPoints: 200,
        deliveredPoints: 200,
        pendingBytes: 0,
      });
      expect(w.stats().requests).toBeLessThan(20);
      expect(await count('batched_v')).toBe(200);
    } finally {
      await w.close();
    }
  });

  it('sends one write larger than maxBatchBytes as several requests of whole lines', async () => {
    const w = createInfluxWriter(options({ maxBatchBytes: 2000 }));
    try {
      const lines = Array.from({ length: 500 }, (_, i) => `split,account=a v=${i} ${now + i}`);
      await w.append(lines.join('\n'), lines.length);
      expect(await w.sync(10_000)).toBe(true);
      expect(w.stats().requests).toBeGreaterThanOrEqual(Math.floor(lines.join('\n').length / 2000));
      expect(await count('split_v')).toBe(500);
    } finally {
      await w.close();
    }
  });

  it('up=>unreachable: appends still resolve, the failure is reported once, and the lines stay spooled', async () => {
    const errors: string[] = [];
    const port = await freePort();
    const opts = options({
      url: `http://127.0.0.1:${port}`,
      onError: (e) => errors.push(e.message),
    });
    const w = createInfluxWriter(opts);
    try {
      for (let i = 0; i < 5; i++) await w.append(`down,account=a v=${i} ${now + i}`, 1);
      expect(await w.sync(500)).toBe(false);
      const s = w.stats();
      expect(s).toMatchObject({
        healthy: false,
        spooledPoints: 5,
        deliveredPoints: 0,
      });
      expect(s.failedRequests).toBeGreaterThan(1);
      expect(s.lastError).toMatch(/ECONNREFUSED/);
      expect(s.pendingBytes).toBeGreaterThan(0);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/cannot deliver to http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED.*keeping \d+ bytes in the spool/);
    } finally {
      await w.close(100);
    }
    // the next writer on the same spool, pointed at a server that is up, delivers them
    const again = createInfluxWriter({ ...opts, url: vm.url });
    try {
      expect(await again.sync(10_000)).toBe(true);
      expect(again.stats().deliveredPoints).toBe(5);
      expect(await count('down_v')).toBe(5);
    } finally {
      await again.close();
    }
  });
});
