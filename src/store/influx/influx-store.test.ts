/**
 * The server-backed store against the TimeSeriesStore contract, on a real VictoriaMetrics
 * (started on a free loopback port with a temporary data folder). Each case gets its own
 * measurement (so its own, empty set of series) and its own spool folder.
 */
import { describe, expect, it } from 'vitest';
import { useVictoriaMetrics } from '../../../test/support/victoria-metrics.ts';
import { timeSeriesStoreContract } from '../contract.ts';
import { createInfluxStore, type InfluxStore, type InfluxStoreOptions } from './influx-store.ts';

const { vm, tempDir } = useVictoriaMetrics(['-dedup.minScrapeInterval=1ms']);
let n = 0;

function options(spoolDir: string, measurement: string, extra: Partial<InfluxStoreOptions> = {}): InfluxStoreOptions {
  return {
    url: vm.url,
    org: 'forewarn',
    bucket: 'forewarn',
    spoolDir,
    measurement,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 200,
    ...extra,
  };
}

timeSeriesStoreContract('influx store on VictoriaMetrics', async () => {
  const spoolDir = tempDir();
  const measurement = `c${++n}_usage`;
  let store = createInfluxStore(options(spoolDir, measurement));
  return {
    store,
    reopen: async () => {
      await store.close();
      store = createInfluxStore(options(spoolDir, measurement));
      return store;
    },
    cleanup: () => store.close(),
    // January 1970 is no place for VictoriaMetrics: run the cases a day ago
    timeOriginMs: Math.floor(Date.now() / 1000) * 1000 - 86_400_000,
    capabilities: {
      lastWriteWins: false,
      deleteBefore: false,
      exactValues: false,
      subMillisecondTimestamps: false,
    },
  };
});

describe('influx store', () => {
  const now = Math.floor(Date.now() / 1000) * 1000;

  it('writes usage_<metric>{account} that PromQL can read, with the points of one account and timestamp on one line', async () => {
    const store = createInfluxStore(options(tempDir(), 'usage'));
    try {
      await store.write([
        {
          account: 'acme',
          metric: 'api_latency_p95_ms',
          tsMs: now - 60_000,
          value: 212.5,
        },
        {
          account: 'acme',
          metric: 'api_requests',
          tsMs: now - 60_000,
          value: 1000,
        },
      ]);
      expect(await store.writer.sync(10_000)).toBe(true);
      await vm.flush();
      const r = await store.queryApi.instant('usage_api_latency_p95_ms{account="acme"}', now);
      expect(r).toEqual([
        {
          labels: { __name__: 'usage_api_latency_p95_ms', account: 'acme' },
          value: 212.5,
        },
      ]);
      expect(store.stats()).toMatchObject({
        spooledPoints: 2,
        deliveredPoints: 2,
        requests: 1,
        healthy: true,
        pendingBytes: 0,
      });
    } finally {
      await store.close();
    }
  });

  it.each([
    {
      what: 'a zero timestamp',
      p: { account: 'a', metric: 'm', tsMs: 0, value: 1 },
      why: /before 1970/,
    },
    {
      what: 'a metric with a line break',
      p: { account: 'a', metric: 'm\nx', tsMs: now, value: 1 },
      why: /line break/,
    },
    {
      what: 'an empty account',
      p: { account: '', metric: 'm', tsMs: now, value: 1 },
      why: /empty account/,
    },
  ])('refuses a write holding $what, naming the point, and spools nothing', async ({ p, why }) => {
    const store = createInfluxStore(options(tempDir(), `r${++n}_usage`));
    try {
      await expect(store.write([{ account: 'a', metric: 'm', tsMs: now, value: 1 }, p])).rejects.toThrow(why);
      await expect(store.write([p])).rejects.toThrow(/point 0 of 1/);
      expect(store.stats().spooledPoints).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('listSeries leaves out points older than listWindowMs', async () => {
    const measurement = `w${++n}_usage`;
    const store = createInfluxStore(
      options(tempDir(), measurement, {
        listWindowMs: 3_600_000,
        listFutureMs: 60_000,
      }),
    );
    try {
      await store.write([
        { account: 'a', metric: 'recent', tsMs: now - 60_000, value: 1 },
        { account: 'a', metric: 'old', tsMs: now - 7_200_000, value: 1 },
      ]);
      expect((await store.listSeries()).map((s) => s.metric)).toEqual(['recent']);
      expect(await store.seriesCount('a')).toBe(1);
      // range queries are not limited by the window
      expect(Array.from((await store.query({ account: 'a', metric: 'old' }, -Infinity, Infinity)).values)).toEqual([1]);
    } finally {
      await store.close();
    }
  });

  it('refuses calls once closed', async () => {
    const store: InfluxStore = createInfluxStore(options(tempDir(), `x${++n}_usage`));
    await store.close();
    await expect(store.query({ account: 'a', metric: 'm' }, 0, 1)).rejects.toThrow(/closed/);
    await expect(store.write([{ account: 'a', metric: 'm', tsMs: now, value: 1 }])).rejects.toThrow(/closed/);
  });
});
