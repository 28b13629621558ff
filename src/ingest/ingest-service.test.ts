/**
 * The ingest service with in-memory stores, a real scorer (scripted detector) and a recording
 * advisor: admission (future timestamps, series limit, strict accounts), placeholder accounts,
 * rejections with source line numbers, good points stored and scored, batches one at a time.
 */
import { describe, expect, it } from 'vitest';
import type { Advisor } from '../advise/advisor.ts';
import { ManualClock } from '../domain/clock.ts';
import type { AnomalyScore, Point } from '../domain/types.ts';
import type { DetectorFactory } from '../detect/detector.ts';
import { createScorer, type ScoredPoint, type Watch } from '../detect/scorer.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { createSqliteStateStore } from '../store/sqlite/sqlite-state-store.ts';
import type { StateStore } from '../store/state-store.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { makeAccount, T0 } from '../../test/fixtures/bundle.ts';
import { createIngestService, type IngestServiceOptions } from './ingest-service.ts';

const MIN = 60_000;

/** A detector that scores every point 0 and remembers nothing. */
const quietFactory: DetectorFactory = {
  create: () => ({
    stateBytes: 0,
    snapshot: () => new Uint8Array(),
    update: (_t: number, value: number): AnomalyScore => ({
      score: 0,
      direction: 'none',
      expected: value,
      observed: value,
      deviation: 0,
      detector: 'quiet',
    }),
  }),
};
const latencyWatch: Watch = { id: 'latency_creep', series: 'latency', metric: 'latency', factory: quietFactory, ruled: true };

interface Setup {
  store?: TimeSeriesStore;
  state?: StateStore;
  options?: Partial<IngestServiceOptions>;
}

async function setup(s: Setup = {}) {
  const clock = new ManualClock(T0);
  const state = s.state ?? createSqliteStateStore({ path: ':memory:' });
  const store = s.store ?? createMemoryStore();
  const scorer = createScorer({ watches: [latencyWatch], defaultFactory: quietFactory });
  const advised: Array<{ p: ScoredPoint; arrival: number }> = [];
  const advisor: Advisor = {
    onScored: (p, arrival) => advised.push({ p: { ...p, score: { ...p.score } }, arrival }),
    arrivalOf: () => undefined,
    tierOf: () => {
      throw new Error('not used');
    },
    dirtySnapshots: () => [],
  };
  const metrics = createMetrics();
  const ingest = await createIngestService({ store, state, scorer, advisor, clock, metrics, ...s.options });
  const stored = async (account: string, metric: string) =>
    Array.from((await store.query({ account, metric }, 0, Number.MAX_SAFE_INTEGER)).values);
  const rejectedCount = async (reason: string) =>
    (await metrics.pointsRejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return { clock, state, store, scorer, advised, metrics, ingest, stored, rejectedCount };
}

const pt = (account: string, metric: string, tsMs: number, value = 1): Point => ({ account, metric, tsMs, value });

describe('admission: future timestamps', () => {
  it.each<[string, number | undefined, number, boolean]>([
    ['default 10 min: at the horizon is accepted', undefined, 10 * MIN, true],
    ['default 10 min: 1 ms past it is rejected', undefined, 10 * MIN + 1, false],
    ['maxFutureMs 0: now is accepted', 0, 0, true],
    ['maxFutureMs 0: 1 ms ahead is rejected', 0, 1, false],
    ['the past is always accepted', 0, -365 * 24 * 60 * MIN, true],
  ])('%s', async (_name, maxFutureMs, aheadMs, accepted) => {
    const { ingest } = await setup({ options: maxFutureMs === undefined ? {} : { maxFutureMs } });
    const r = await ingest.ingest([pt('acme', 'latency', T0 + aheadMs)], 'test');
    expect(r.accepted).toBe(accepted ? 1 : 0);
    expect(r.rejected.map((x) => x.code)).toEqual(accepted ? [] : ['future_timestamp']);
  });

  it('the horizon follows the wall clock', async () => {
    const { ingest, clock } = await setup();
    const ts = T0 + 15 * MIN;
    expect((await ingest.ingest([pt('acme', 'latency', ts)], 'test')).accepted).toBe(0);
    clock.advance(5 * MIN);
    expect((await ingest.ingest([pt('acme', 'latency', ts)], 'test')).accepted).toBe(1);
  });

  it('the reason says how far ahead is allowed; a future point of a new account does not register the account', async () => {
    const { ingest, state } = await setup();
    const r = await ingest.ingest([pt('newco', 'latency', T0 + 11 * MIN)], 'test');
    expect(r.rejected[0]!.reason).toBe(`timestamp ${new Date(T0 + 11 * MIN).toISOString()} is more than 600s ahead of the server clock`);
    expect(r.newAccounts).toEqual([]);
    expect(state.getAccount('newco')).toBeUndefined();
  });
});

describe('admission: accounts', () => {
  it('unknown accounts become unclassified placeholders, registered once, existing ones untouched', async () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    state.upsertAccount(makeAccount({ id: 'acme' }));
    const { ingest } = await setup({ state });
    const r = await ingest.ingest(
      [pt('newco', 'latency', T0), pt('newco', 'cpu', T0), pt('acme', 'latency', T0), pt('other', 'latency', T0)],
      'test',
    );
    expect(r).toMatchObject({ accepted: 4, rejected: [], newAccounts: ['newco', 'other'] });
    expect(state.getAccount('newco')).toEqual({
      id: 'newco',
      name: 'newco',
      attributes: { contractValueUsd: 0, monthlyUsage: 0, criticality: 'low', strategic: false, businessCritical: false },
      technicalContacts: [],
      businessContacts: [],
      unclassified: true,
      createdAtMs: T0,
      updatedAtMs: T0,
    });
    expect(state.getAccount('acme')).toEqual(makeAccount({ id: 'acme' }));
    expect((await ingest.ingest([pt('newco', 'latency', T0 + 1)], 'test')).newAccounts).toEqual([]);
  });

  it('strict: unknown=>rejected, registered (in the store at start or via knowAccount)=>accepted', async () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    state.upsertAccount(makeAccount({ id: 'acme' }));
    const { ingest } = await setup({ state, options: { strictAccounts: true } });
    const r1 = await ingest.ingest([pt('acme', 'latency', T0), pt('newco', 'latency', T0)], 'test');
    expect(r1.accepted).toBe(1);
    expect(r1.rejected).toEqual([
      {
        line: 2,
        code: 'unknown_account',
        reason: expect.stringContaining('unknown account "newco" (strict mode: register it with PUT /api/accounts/newco first)'),
      },
    ]);
    expect(r1.newAccounts).toEqual([]);
    expect(state.getAccount('newco')).toBeUndefined();
    ingest.knowAccount('newco');
    expect((await ingest.ingest([pt('newco', 'latency', T0)], 'test')).accepted).toBe(1);
  });
});

describe('admission: consecutive points of one account are judged one by one', () => {
  it('future=>ok: the second point of a new account registers it, the first is still rejected', async () => {
    const { ingest, state } = await setup();
    const r = await ingest.ingest([pt('newco', 'latency', T0 + 11 * MIN), pt('newco', 'latency', T0)], 'test');
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([[1, 'future_timestamp']]);
    expect(r).toMatchObject({ accepted: 1, newAccounts: ['newco'] });
    expect(state.getAccount('newco')?.unclassified).toBe(true);
  });

  it('strict: unknown=>unknown=>known=>unknown, each point of an unknown account rejected', async () => {
    const state = createSqliteStateStore({ path: ':memory:' });
    state.upsertAccount(makeAccount({ id: 'acme' }));
    const { ingest } = await setup({ state, options: { strictAccounts: true } });
    const r = await ingest.ingest([pt('newco', 'a', T0), pt('newco', 'b', T0), pt('acme', 'a', T0), pt('newco', 'c', T0)], 'test');
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([
      [1, 'unknown_account'],
      [2, 'unknown_account'],
      [4, 'unknown_account'],
    ]);
    expect(r.accepted).toBe(1);
  });

  it('series limit with accounts interleaved (a, a, b, a): each account counts its own metrics', async () => {
    const { ingest } = await setup({ options: { maxSeriesPerAccount: 2 } });
    const r = await ingest.ingest(
      [pt('a', 'm1', T0), pt('a', 'm2', T0), pt('b', 'm1', T0), pt('a', 'm3', T0), pt('b', 'm2', T0), pt('b', 'm3', T0)],
      'test',
    );
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([
      [4, 'series_limit'],
      [6, 'series_limit'],
    ]);
  });
});

describe('admission: series limit per account', () => {
  it('the limit counts distinct metrics per account; known metrics keep flowing; other accounts have their own', async () => {
    const { ingest, stored } = await setup({ options: { maxSeriesPerAccount: 2 } });
    const r = await ingest.ingest(
      [pt('a', 'm1', T0), pt('a', 'm2', T0), pt('a', 'm3', T0), pt('a', 'm1', T0 + 1), pt('b', 'm3', T0)],
      'test',
    );
    expect(r.accepted).toBe(4);
    expect(r.rejected).toEqual([{ line: 3, code: 'series_limit', reason: 'account "a" already has 2 series; metric "m3" not accepted' }]);
    expect(await stored('a', 'm3')).toEqual([]);
    expect(await stored('b', 'm3')).toEqual([1]);
    expect((await ingest.ingest([pt('a', 'm4', T0 + 2)], 'test')).rejected.map((x) => x.code)).toEqual(['series_limit']);
  });

  it('series already in the store at start count towards the limit', async () => {
    const store = createMemoryStore();
    await store.write([pt('a', 'old1', T0 - MIN), pt('a', 'old2', T0 - MIN)]);
    const { ingest } = await setup({ store, options: { maxSeriesPerAccount: 2 } });
    const r = await ingest.ingest([pt('a', 'old1', T0), pt('a', 'new', T0)], 'test');
    expect(r.accepted).toBe(1);
    expect(r.rejected.map((x) => x.code)).toEqual(['series_limit']);
  });

  it('a point rejected for its timestamp does not take a series slot', async () => {
    const { ingest } = await setup({ options: { maxSeriesPerAccount: 1 } });
    await ingest.ingest([pt('a', 'm1', T0 + 60 * MIN)], 'test');
    expect((await ingest.ingest([pt('a', 'm2', T0)], 'test')).accepted).toBe(1);
  });
});

describe('a batch with good and bad points', () => {
  it('rejections carry the source line numbers from `lines`; the good points are stored, scored and advised', async () => {
    const { ingest, stored, advised, scorer } = await setup({ options: { maxSeriesPerAccount: 2 } });
    const points = [
      pt('a', 'latency', T0, 10),
      pt('a', 'latency', T0 + 20 * MIN, 11),
      pt('a', 'cpu', T0, 12),
      pt('a', 'disk', T0, 13),
      pt('a', 'latency', T0 + MIN, 14),
    ];
    const r = await ingest.ingest(points, 'line_protocol', [3, 4, 7, 9, 12]);
    expect(r.accepted).toBe(3);
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([
      [4, 'future_timestamp'],
      [9, 'series_limit'],
    ]);
    expect(await stored('a', 'latency')).toEqual([10, 14]);
    expect(await stored('a', 'cpu')).toEqual([12]);
    expect(await stored('a', 'disk')).toEqual([]);
    // only the ruled watch reaches the advisor, with the batch's arrival time
    expect(advised.map((x) => [x.p.watch.id, x.p.value, x.arrival])).toEqual([
      ['latency_creep', 10, T0],
      ['latency_creep', 14, T0],
    ]);
    expect(
      scorer
        .health('a')
        .map((h) => h.series)
        .sort(),
    ).toEqual(['cpu', 'latency']);
  });

  it('without `lines` a rejection is numbered by its position (1-based)', async () => {
    const { ingest } = await setup();
    const r = await ingest.ingest([pt('a', 'x', T0), pt('a', 'x', T0 + 99 * MIN)], 'json');
    expect(r.rejected.map((x) => x.line)).toEqual([2]);
  });

  it('all good: nothing rejected, every point stored', async () => {
    const { ingest, stored } = await setup();
    const r = await ingest.ingest([pt('a', 'x', T0, 1), pt('a', 'x', T0 + 1, 2)], 'json');
    expect(r).toEqual({ accepted: 2, rejected: [], newAccounts: ['a'] });
    expect(await stored('a', 'x')).toEqual([1, 2]);
  });

  it('an empty batch stores and scores nothing', async () => {
    const { ingest, advised } = await setup();
    expect(await ingest.ingest([], 'json')).toEqual({ accepted: 0, rejected: [], newAccounts: [] });
    expect(advised).toEqual([]);
  });

  it('rejections are counted by reason and accepted points by source', async () => {
    const { ingest, metrics, rejectedCount } = await setup({ options: { strictAccounts: true } });
    ingest.knowAccount('a');
    await ingest.ingest([pt('a', 'x', T0), pt('a', 'x', T0 + 99 * MIN), pt('zz', 'x', T0), pt('zz', 'y', T0)], 'json');
    expect(await rejectedCount('future_timestamp')).toBe(1);
    expect(await rejectedCount('unknown_account')).toBe(2);
    const points = (await metrics.ingestPoints.get()).values.find((v) => v.labels.source === 'json');
    expect(points?.value).toBe(1);
  });
});

describe('batches one at a time', () => {
  /** A store whose writes wait until released, recording the order of starts and ends. */
  function gatedStore() {
    const inner = createMemoryStore();
    const log: string[] = [];
    const gates: Array<() => void> = [];
    const store: TimeSeriesStore = {
      ...inner,
      async write(points) {
        const tag = points.map((p) => p.value).join(',');
        log.push(`start ${tag}`);
        await new Promise<void>((resolve) => gates.push(resolve));
        await inner.write(points);
        log.push(`end ${tag}`);
      },
    };
    return { store, log, gates };
  }

  /** A memory store whose first write throws `disk full`; later writes go through. */
  function failFirstWriteStore(): TimeSeriesStore {
    const inner = createMemoryStore();
    let fail = true;
    return {
      ...inner,
      async write(points) {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
        await inner.write(points);
      },
    };
  }

  const flush = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  it('a second batch is not admitted or written before the first is stored and scored', async () => {
    const { store, log, gates } = gatedStore();
    const { ingest, advised } = await setup({ store });
    const first = ingest.ingest([pt('a', 'latency', T0, 1)], 'test');
    const second = ingest.ingest([pt('a', 'latency', T0 + 1, 2)], 'test');
    await flush();
    expect(log).toEqual(['start 1']);
    gates.shift()!();
    await first;
    await flush();
    expect(log).toEqual(['start 1', 'end 1', 'start 2']);
    expect(advised.map((x) => x.p.value)).toEqual([1]);
    gates.shift()!();
    await second;
    expect(advised.map((x) => x.p.value)).toEqual([1, 2]);
  });

  it('a failed write fails its own batch only; the next batch goes through', async () => {
    const store = failFirstWriteStore();
    const { ingest, stored, advised } = await setup({ store });
    const first = ingest.ingest([pt('a', 'latency', T0, 1)], 'test');
    const second = ingest.ingest([pt('a', 'latency', T0 + 1, 2)], 'test');
    await expect(first).rejects.toThrow('disk full');
    await expect(second).resolves.toMatchObject({ accepted: 1 });
    expect(await stored('a', 'latency')).toEqual([2]);
    // the failed batch was not scored: nothing scored that is not stored
    expect(advised.map((x) => x.p.value)).toEqual([2]);
  });

  it('a batch whose write failed does not use up series slots (nothing of it was stored)', async () => {
    const store = failFirstWriteStore();
    const { ingest } = await setup({ store, options: { maxSeriesPerAccount: 1 } });
    await expect(ingest.ingest([pt('a', 'm1', T0)], 'test')).rejects.toThrow('disk full');
    const r = await ingest.ingest([pt('a', 'm2', T0)], 'test');
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toBe(1);
  });
});
