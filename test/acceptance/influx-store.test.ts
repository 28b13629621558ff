/**
 * Forewarn on a real VictoriaMetrics (started by the test on a free loopback port):
 * - durability: VictoriaMetrics is stopped in the middle of an ingest and started again; every
 *   write resolved meanwhile (from the spool) and every acknowledged point ends up in the server;
 * - a crash image of the spool (copied while points were not delivered) is replayed by the next
 *   store on that folder;
 * - the whole pipeline with FOREWARN_STORE=influx writes raw points and its outputs (anomaly,
 *   health, signal, advisory) under the names and labels dashboards use;
 * - wrong or unreachable settings stop the start with an error naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createForewarn } from '../../src/app.ts';
import { loadRules } from '../../src/config/load-rules.ts';
import { EnvError, loadServerConfig } from '../../src/config/server-config.ts';
import type { Point } from '../../src/domain/types.ts';
import { createInfluxStore, type InfluxStore, type InfluxStoreOptions } from '../../src/store/influx/influx-store.ts';
import { createQueryApi } from '../../src/store/influx/query-api.ts';
import { freePort, startVictoriaMetrics, useVictoriaMetrics } from '../support/victoria-metrics.ts';

const HOUR = 3_600_000;
const STEP = 5 * 60_000;

const { vm, tempDir } = useVictoriaMetrics(['-dedup.minScrapeInterval=1ms']);

function storeOptions(spoolDir: string, measurement: string, extra: Partial<InfluxStoreOptions> = {}): InfluxStoreOptions {
  return {
    url: vm.url,
    org: 'forewarn',
    bucket: 'forewarn',
    spoolDir,
    measurement,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 300,
    timeoutMs: 5000,
    closeDrainMs: 200,
    ...extra,
  };
}

/** Polls `check` until it returns true or `ms` pass; returns the last answer. */
async function eventually(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Batch `b` of a synthetic ingest: 10 accounts x 5 metrics at one timestamp, values that encode where they came from. */
function batch(b: number, baseMs: number): Point[] {
  const out: Point[] = [];
  for (let a = 0; a < 10; a++)
    for (let m = 0; m < 5; m++)
      out.push({
        account: `acct-${a}`,
        metric: `m${m}`,
        tsMs: baseMs + b * 1000,
        value: b * 100 + a * 10 + m,
      });
  return out;
}

const totalPoints = async (store: InfluxStore) => (await store.listSeries()).reduce((n, s) => n + s.points, 0);

describe('durability: the spool in front of VictoriaMetrics', () => {
  it('running=>stopped=>running mid-ingest: every write resolves and every acknowledged point reaches the server', async () => {
    const store = createInfluxStore(storeOptions(tempDir(), 'outage'));
    const base = Math.floor(Date.now() / 1000) * 1000 - HOUR;
    const batches = 60;
    try {
      for (let b = 0; b < batches; b++) {
        if (b === 20) {
          expect(await store.writer.sync(10_000)).toBe(true);
          await vm.stop();
        }
        if (b === 40) {
          // the writer noticed the outage and kept everything since then in the spool
          expect(await eventually(() => !store.stats().healthy, 10_000)).toBe(true);
          expect(store.stats().pendingBytes).toBeGreaterThan(0);
          await vm.start();
        }
        await store.write(batch(b, base));
      }
      expect(store.stats().spooledPoints).toBe(batches * 50);
      expect(await store.writer.sync(30_000)).toBe(true);
      expect(store.stats()).toMatchObject({
        healthy: true,
        pendingBytes: 0,
        deliveredPoints: batches * 50,
      });
      expect(store.stats().failedRequests).toBeGreaterThan(0);

      expect(await eventually(async () => (await totalPoints(store)) === batches * 50, 20_000)).toBe(true);
      // spot checks from before, during and after the outage
      for (const [b, a, m] of [
        [0, 0, 0],
        [25, 3, 4],
        [39, 9, 1],
        [45, 5, 2],
        [59, 7, 3],
      ] as const) {
        const r = await store.query({ account: `acct-${a}`, metric: `m${m}` }, base + b * 1000, base + b * 1000 + 1);
        expect(Array.from(r.values), `batch ${b} acct-${a} m${m}`).toEqual([b * 100 + a * 10 + m]);
      }
      const one = await store.query({ account: 'acct-4', metric: 'm4' }, -Infinity, Infinity);
      expect(Array.from(one.tsMs)).toEqual(Array.from({ length: batches }, (_, b) => base + b * 1000));
    } finally {
      await store.close();
    }
  });

  it('a crash image of a spool holding undelivered points is replayed by the next store on it', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000 - 2 * HOUR;
    const live = tempDir();
    const image = tempDir();
    await vm.stop();
    let first: InfluxStore | undefined = createInfluxStore(storeOptions(live, 'replay'));
    try {
      for (let b = 0; b < 10; b++) await first.write(batch(b, base));
      expect(first.stats()).toMatchObject({
        spooledPoints: 500,
        deliveredPoints: 0,
      });
      // what a crash right now leaves on disk: the spool folder as it is
      fs.cpSync(live, image, { recursive: true });
      await first.close();
      first = undefined;
    } finally {
      await first?.close();
      await vm.start();
    }
    expect(fs.readdirSync(image).some((f) => f.startsWith('seg-'))).toBe(true);

    const second = createInfluxStore(storeOptions(image, 'replay'));
    try {
      expect(await second.writer.sync(20_000)).toBe(true);
      expect(second.stats()).toMatchObject({
        deliveredPoints: 500,
        pendingBytes: 0,
      });
      expect(await eventually(async () => (await totalPoints(second)) === 500, 20_000)).toBe(true);
      expect(Array.from((await second.query({ account: 'acct-2', metric: 'm3' }, base + 7000, base + 7001)).values)).toEqual([723]);
    } finally {
      await second.close();
    }
    // delivered and acknowledged: a third store on the same folder has nothing left to send
    const third = createInfluxStore(storeOptions(image, 'replay'));
    expect(third.stats().pendingBytes).toBe(0);
    await third.close();
  });
});

describe('FOREWARN_STORE=influx: the pipeline writes raw points and its outputs', () => {
  it('usage, forewarn_anomaly, forewarn_health, forewarn_signal and forewarn_advisory carry the documented names and labels', async () => {
    const dataDir = tempDir('forewarn-influx-app-');
    const rules = loadRules(path.resolve('rules'));
    const config = loadServerConfig({
      FOREWARN_DATA_DIR: dataDir,
      FOREWARN_STORE: 'influx',
      INFLUX_URL: vm.url,
      PORT: '0',
    });
    const fw = await createForewarn({ config, rules });
    const endMs = Math.floor((Date.now() - HOUR) / STEP) * STEP;
    const startMs = endMs - 4 * 24 * HOUR;
    const incidentStart = endMs - 6 * HOUR;
    try {
      expect(fw.sink.enabled).toBe(true);
      // acme-corp (strategic, from rules/accounts.yaml): four quiet days, then p95 latency at 4x
      let points: Point[] = [];
      let i = 0;
      for (let t = startMs; t <= endMs; t += STEP) {
        const hour = (t / HOUR) % 24;
        let latency = 200 * (1 + 0.3 * Math.exp(-((hour - 14) ** 2) / 18)) * (1 + 0.03 * Math.sin(i++ * 12.9898));
        if (t >= incidentStart) latency *= 4;
        points.push({
          account: 'acme-corp',
          metric: 'api_latency_p95_ms',
          tsMs: t,
          value: latency,
        });
        points.push({
          account: 'acme-corp',
          metric: 'widgets_built',
          tsMs: t,
          value: 5 + (i % 3),
        });
        // an hour per batch: health is written per account per batch
        if (points.length >= 24) {
          await fw.ingest.ingest(points, 'test');
          points = [];
        }
      }
      if (points.length > 0) await fw.ingest.ingest(points, 'test');
      await fw.sink.flush();
      const signals = fw.state.listSignals({ account: 'acme-corp' });
      expect(signals.map((s) => s.rule)).toContain('latency_creep');
      const advisories = fw.state.listAdvisories({
        signalId: signals.find((s) => s.rule === 'latency_creep')!.id,
      });
      expect(advisories.length).toBeGreaterThan(0);

      const store = fw.store as InfluxStore;
      expect(await store.writer.sync(20_000)).toBe(true);
      // everything delivered: the spool gauge on /metrics says so
      const scraped = await (await fw.app.request('/metrics')).text();
      expect(scraped).toMatch(/^forewarn_spool_bytes 0$/m);
      expect(scraped).toMatch(/^forewarn_server_write_failures_total 0$/m);
      await vm.flush();
      const q = createQueryApi({ url: vm.url });
      const at = endMs + 1000;
      const series = async (query: string) =>
        (await q.instant(query, at)).map((r) => r.labels).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      const steps = (endMs - startMs) / STEP + 1;
      const window = `[${(endMs - startMs) / 1000 + 60}s]`;

      // raw points: usage_<metric>{account}
      expect(await q.instant(`count_over_time(usage_api_latency_p95_ms{account="acme-corp"}${window})`, at)).toEqual([
        { labels: { account: 'acme-corp' }, value: steps },
      ]);
      // one anomaly per scored point, for rule watches and for the default watch of an unwatched metric
      const anomalies = await q.instant(`count_over_time(forewarn_anomaly_score{account="acme-corp"}${window})`, at);
      expect(anomalies.map((a) => [a.labels.rule, a.labels.series, a.value]).sort()).toEqual([
        ['latency_creep', 'api_latency_p95_ms', steps],
        ['metric:widgets_built', 'widgets_built', steps],
      ]);
      for (const field of ['expected', 'observed', 'deviation', 'lower', 'upper']) {
        expect(await series(`last_over_time(forewarn_anomaly_${field}{rule="latency_creep"}${window})`), field).toEqual([
          {
            __name__: `forewarn_anomaly_${field}`,
            account: 'acme-corp',
            rule: 'latency_creep',
            series: 'api_latency_p95_ms',
          },
        ]);
      }
      const observed = await q.instant(`forewarn_anomaly_observed{rule="latency_creep"}`, endMs);
      expect(observed[0]!.value).toBeGreaterThan(600);
      // the band holds what is normal: before the incident the observed value lies inside it
      const inBand = await q.instant(
        `forewarn_anomaly_observed{rule="latency_creep"} >= bool forewarn_anomaly_lower{rule="latency_creep"}`,
        incidentStart - 2 * HOUR,
      );
      expect(inBand.map((r) => r.value)).toEqual([1]);

      // health: high before the incident, low during it
      expect(await series(`forewarn_health_score`)).toEqual([
        {
          __name__: 'forewarn_health_score',
          account: 'acme-corp',
          tier: 'strategic',
        },
      ]);
      const healthBefore = (await q.instant('last_over_time(forewarn_health_score[2h])', incidentStart - HOUR))[0]!.value;
      const healthNow = (await q.instant('last_over_time(forewarn_health_score[2h])', endMs))[0]!.value;
      expect((await q.instant(`count_over_time(forewarn_health_score${window})`, at))[0]!.value).toBe(Math.ceil(steps / 12));
      expect(healthBefore).toBeGreaterThan(80);
      expect(healthNow).toBeLessThan(50);

      // the open signal, and the advisories sent for it
      const open = await q.instant(`max_over_time(forewarn_signal_open{rule="latency_creep"}${window})`, at);
      expect(open).toHaveLength(1);
      expect(open[0]!.labels).toMatchObject({
        account: 'acme-corp',
        rule: 'latency_creep',
        domain: 'performance',
        tier: 'strategic',
      });
      expect(['info', 'warning', 'critical']).toContain(open[0]!.labels.severity);
      expect(open[0]!.value).toBe(1);
      expect(await q.instant(`last_over_time(forewarn_signal_open{rule="latency_creep"}[10m])`, endMs + 1)).toEqual([
        expect.objectContaining({ value: 1 }),
      ]);
      const sent = await q.instant(`count_over_time(forewarn_advisory_sent{account="acme-corp"}${window})`, at);
      expect(sent.map((s) => s.labels.kind).sort()).toEqual([...new Set(advisories.map((a) => a.kind))].sort());
      for (const s of sent)
        expect(s.labels).toMatchObject({
          account: 'acme-corp',
          tier: 'strategic',
        });

      // the store reads what it wrote
      const back = await fw.store.query({ account: 'acme-corp', metric: 'api_latency_p95_ms' }, startMs, endMs + 1);
      expect(back.tsMs.length).toBe(steps);
    } finally {
      await fw.close();
    }
  });
});

describe('start-up checks name the setting to fix', () => {
  const env = (extra: Record<string, string>) => ({
    FOREWARN_DATA_DIR: tempDir('forewarn-influx-cfg-'),
    PORT: '0',
    FOREWARN_STORE: 'influx',
    ...extra,
  });
  const rules = loadRules(path.resolve('rules'));

  it.each([
    {
      why: 'no INFLUX_URL',
      vars: {},
      variable: 'INFLUX_URL',
      message: /needs the write URL/,
    },
    {
      why: 'not an http URL',
      vars: { INFLUX_URL: 'ftp://tsdb:8428' },
      variable: 'INFLUX_URL',
      message: /http\(s\) URL/,
    },
    {
      why: 'credentials in the URL',
      vars: { INFLUX_URL: 'http://u:p@tsdb:8428' },
      variable: 'INFLUX_URL',
      message: /without credentials/,
    },
    {
      why: 'a bad query URL',
      vars: { INFLUX_URL: 'http://tsdb:8428', FOREWARN_QUERY_URL: 'tsdb:8481' },
      variable: 'FOREWARN_QUERY_URL',
      message: /http\(s\) URL/,
    },
    {
      why: 'an unknown store',
      vars: { FOREWARN_STORE: 'mongo' },
      variable: 'FOREWARN_STORE',
      message: /embedded or influx/,
    },
  ])('configuration: $why => $variable', ({ vars, variable, message }) => {
    let err: unknown;
    try {
      loadServerConfig(env(vars));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvError);
    expect((err as EnvError).variable).toBe(variable);
    expect((err as EnvError).message).toMatch(message);
  });

  it('configuration: defaults for org, bucket, query URL and spool folder; embedded stays the default', () => {
    const e = env({ INFLUX_URL: 'http://tsdb:8428/', INFLUX_TOKEN: 'sekret' });
    expect(loadServerConfig(e).influx).toEqual({
      url: 'http://tsdb:8428',
      token: 'sekret',
      org: 'forewarn',
      bucket: 'forewarn',
      queryUrl: 'http://tsdb:8428',
      spoolDir: `${e.FOREWARN_DATA_DIR}/spool`,
    });
    expect('influx' in loadServerConfig({ INFLUX_URL: 'http://tsdb:8428' })).toBe(false);
  });

  it('an unreachable INFLUX_URL stops the start', async () => {
    const port = await freePort();
    await expect(
      createForewarn({
        config: loadServerConfig(env({ INFLUX_URL: `http://127.0.0.1:${port}` })),
        rules,
      }),
    ).rejects.toThrow(/^INFLUX_URL: cannot reach the time-series server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('an INFLUX_URL that is no InfluxDB-compatible server (a wrong path) stops the start', async () => {
    await expect(
      createForewarn({
        config: loadServerConfig(env({ INFLUX_URL: `${vm.url}/not-here` })),
        rules,
      }),
    ).rejects.toThrow(/^INFLUX_URL: .*does not look like an InfluxDB-compatible server/);
  });

  it('a FOREWARN_QUERY_URL that does not answer PromQL stops the start', async () => {
    await expect(
      createForewarn({
        config: loadServerConfig(env({ INFLUX_URL: vm.url, FOREWARN_QUERY_URL: `${vm.url}/not-here` })),
        rules,
      }),
    ).rejects.toThrow(/^FOREWARN_QUERY_URL: .*does not answer PromQL/);
  });

  it('a server that refuses the token stops the start naming INFLUX_TOKEN', async () => {
    const guarded = await startVictoriaMetrics(['-httpAuth.username=forewarn', '-httpAuth.password=secret']);
    try {
      await expect(
        createForewarn({
          config: loadServerConfig(env({ INFLUX_URL: guarded.url, INFLUX_TOKEN: 'wrong-token' })),
          rules,
        }),
      ).rejects.toThrow(/^INFLUX_TOKEN: the server at .* refused to let us write \(HTTP 401\)/);
    } finally {
      await guarded.destroy();
    }
  });
});
