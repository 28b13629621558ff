/**
 * The contract every TimeSeriesStore implementation passes. An implementation's test file calls
 * `timeSeriesStoreContract('name', make)`; `make` builds a fresh, empty store per test.
 * A store backed by a time-series server declares what it cannot do in `capabilities` (each
 * defaults to the strict behaviour), and the cases check the weaker promise only for that store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Point, SeriesKey } from '../domain/types.ts';
import type { SeriesInfo, SeriesRange, TimeSeriesStore } from './time-series-store.ts';

/** What `make` returns: a fresh store, optionally a way to reopen it, and a cleanup. */
export interface TimeSeriesStoreHarness {
  store: TimeSeriesStore;
  /** closes the current store and opens the same data again (persistent stores only) */
  reopen?: () => Promise<TimeSeriesStore>;
  /** closes whatever store is open and removes its files */
  cleanup: () => Promise<void>;
  /** what the store cannot do; unset means it can */
  capabilities?: TimeSeriesStoreCapabilities;
  /**
   * added to every timestamp the cases write, query or delete, and taken off what comes back,
   * for servers that cannot hold points of January 1970 (the cases use small timestamps)
   */
  timeOriginMs?: number;
}

/** Promises a store may not keep; every one defaults to true. */
export interface TimeSeriesStoreCapabilities {
  /** of points with the same timestamp the last written is kept (false: exactly one of them is kept) */
  lastWriteWins?: boolean;
  /** deleteBefore removes points (false: it does nothing; retention is the server's) */
  deleteBefore?: boolean;
  /** every float64 value comes back bit for bit, -0 included (false: values of up to 12 significant digits do) */
  exactValues?: boolean;
  /** fractional milliseconds are kept (false: timestamps are whole milliseconds) */
  subMillisecondTimestamps?: boolean;
}

/** The store seen with all timestamps moved by `originMs` (see `timeOriginMs`). */
function shifted(store: TimeSeriesStore, originMs: number): TimeSeriesStore {
  return {
    write: (points) => store.write(points.map((p) => ({ ...p, tsMs: p.tsMs + originMs }))),
    query: async (key, fromMs, toMs) => {
      const r = await store.query(key, fromMs + originMs, toMs + originMs);
      return { tsMs: r.tsMs.map((t) => t - originMs), values: r.values };
    },
    listSeries: async (account) =>
      (await store.listSeries(account)).map((s) => ({ ...s, firstMs: s.firstMs - originMs, lastMs: s.lastMs - originMs })),
    seriesCount: (account) => store.seriesCount(account),
    deleteBefore: (beforeMs) => store.deleteBefore(beforeMs + originMs),
    close: () => store.close(),
  };
}

const pt = (account: string, metric: string, tsMs: number, value: number): Point => ({ account, metric, tsMs, value });

const plain = (r: SeriesRange): { ts: number[]; values: number[] } => ({ ts: Array.from(r.tsMs), values: Array.from(r.values) });

const byKey = (a: SeriesInfo, b: SeriesInfo): number =>
  a.account === b.account ? (a.metric < b.metric ? -1 : 1) : a.account < b.account ? -1 : 1;

/** Declares the TimeSeriesStore contract suite for one implementation. */
export function timeSeriesStoreContract(name: string, make: () => Promise<TimeSeriesStoreHarness>): void {
  describe(`${name} (TimeSeriesStore contract)`, () => {
    let harness: TimeSeriesStoreHarness;
    let store: TimeSeriesStore;
    let can: Required<TimeSeriesStoreCapabilities>;
    const all = (key: SeriesKey): Promise<SeriesRange> => store.query(key, -Infinity, Infinity);
    const view = (s: TimeSeriesStore): TimeSeriesStore => (harness.timeOriginMs === undefined ? s : shifted(s, harness.timeOriginMs));

    beforeEach(async () => {
      harness = await make();
      store = view(harness.store);
      can = { lastWriteWins: true, deleteBefore: true, exactValues: true, subMillisecondTimestamps: true, ...harness.capabilities };
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('reads back what was written, per account x metric, as Float64Arrays', async () => {
      await store.write([
        pt('acme', 'cpu', 1000, 1),
        pt('acme', 'mem', 1000, 10),
        pt('globex', 'cpu', 1000, 100),
        pt('acme', 'cpu', 2000, 2),
      ]);
      const cpu = await all({ account: 'acme', metric: 'cpu' });
      expect(cpu.tsMs).toBeInstanceOf(Float64Array);
      expect(cpu.values).toBeInstanceOf(Float64Array);
      expect(plain(cpu)).toEqual({ ts: [1000, 2000], values: [1, 2] });
      expect(plain(await all({ account: 'acme', metric: 'mem' }))).toEqual({ ts: [1000], values: [10] });
      expect(plain(await all({ account: 'globex', metric: 'cpu' }))).toEqual({ ts: [1000], values: [100] });
    });

    it.each([
      { from: 10, to: 40, want: [10, 20, 30], why: 'from is inclusive, to exclusive' },
      { from: 11, to: 40, want: [20, 30], why: 'from between points' },
      { from: 10, to: 41, want: [10, 20, 30, 40], why: 'to just past the last point' },
      { from: 20, to: 21, want: [20], why: 'a one-point window' },
      { from: 20, to: 20, want: [], why: 'an empty window' },
      { from: 30, to: 10, want: [], why: 'a reversed window' },
      { from: 41, to: 100, want: [], why: 'a window after the data' },
      { from: 0, to: 10, want: [], why: 'a window ending at the first point' },
      { from: -Infinity, to: Infinity, want: [10, 20, 30, 40], why: 'an unbounded window' },
    ])('query [$from, $to) returns $want ($why)', async ({ from, to, want }) => {
      await store.write([10, 20, 30, 40].map((ts) => pt('a', 'm', ts, ts / 10)));
      const r = await store.query({ account: 'a', metric: 'm' }, from, to);
      expect(plain(r)).toEqual({ ts: want, values: want.map((ts) => ts / 10) });
    });

    it('sorts points that arrive out of order, within one write and across writes', async () => {
      await store.write([pt('a', 'm', 30, 3), pt('a', 'm', 10, 1), pt('a', 'm', 50, 5)]);
      await store.write([pt('a', 'm', 20, 2), pt('a', 'm', 5, 0.5)]);
      await store.write([pt('a', 'm', 40, 4)]);
      expect(plain(await all({ account: 'a', metric: 'm' }))).toEqual({ ts: [5, 10, 20, 30, 40, 50], values: [0.5, 1, 2, 3, 4, 5] });
    });

    it.each([
      { how: 'within one write', writes: [[pt('a', 'm', 10, 1), pt('a', 'm', 20, 2), pt('a', 'm', 10, 9)]] },
      { how: 'across writes', writes: [[pt('a', 'm', 10, 1), pt('a', 'm', 20, 2)], [pt('a', 'm', 10, 9)]] },
      { how: 'across writes, twice', writes: [[pt('a', 'm', 10, 1)], [pt('a', 'm', 20, 2), pt('a', 'm', 10, 5)], [pt('a', 'm', 10, 9)]] },
    ])('a duplicate timestamp keeps the last value written ($how)', async ({ writes }) => {
      for (const w of writes) await store.write(w);
      const r = plain(await all({ account: 'a', metric: 'm' }));
      if (can.lastWriteWins) expect(r).toEqual({ ts: [10, 20], values: [9, 2] });
      else {
        // one of the values written at 10 survives, and only one
        expect(r.ts).toEqual([10, 20]);
        expect(
          writes
            .flat()
            .filter((p) => p.tsMs === 10)
            .map((p) => p.value),
        ).toContain(r.values[0]);
        expect(r.values[1]).toBe(2);
      }
      const [info] = await store.listSeries('a');
      expect(info).toEqual({ account: 'a', metric: 'm', points: 2, firstMs: 10, lastMs: 20 });
    });

    it('lists series with point counts and time bounds, and counts metrics per account', async () => {
      await store.write([pt('acme', 'cpu', 30, 1), pt('acme', 'cpu', 10, 1), pt('acme', 'mem', 20, 1), pt('globex', 'cpu', 5, 1)]);
      await store.write([pt('acme', 'cpu', 20, 1)]);
      expect((await store.listSeries()).sort(byKey)).toEqual([
        { account: 'acme', metric: 'cpu', points: 3, firstMs: 10, lastMs: 30 },
        { account: 'acme', metric: 'mem', points: 1, firstMs: 20, lastMs: 20 },
        { account: 'globex', metric: 'cpu', points: 1, firstMs: 5, lastMs: 5 },
      ]);
      expect((await store.listSeries('globex')).map((s) => s.metric)).toEqual(['cpu']);
      expect(await store.listSeries('nobody')).toEqual([]);
      expect(await store.seriesCount('acme')).toBe(2);
      expect(await store.seriesCount('globex')).toBe(1);
      expect(await store.seriesCount('nobody')).toBe(0);
    });

    it('keeps series apart whose account and metric would collide if joined naively', async () => {
      await store.write([
        pt('a/b', 'c', 1, 1),
        pt('a', 'b/c', 1, 2),
        pt('a b', 'c', 1, 3),
        pt('a', 'b c', 1, 4),
        pt('a\u0000b', 'c', 1, 5),
      ]);
      expect(Array.from((await all({ account: 'a/b', metric: 'c' })).values)).toEqual([1]);
      expect(Array.from((await all({ account: 'a', metric: 'b/c' })).values)).toEqual([2]);
      expect(Array.from((await all({ account: 'a b', metric: 'c' })).values)).toEqual([3]);
      expect(Array.from((await all({ account: 'a', metric: 'b c' })).values)).toEqual([4]);
      expect(Array.from((await all({ account: 'a\u0000b', metric: 'c' })).values)).toEqual([5]);
      expect(await store.seriesCount('a')).toBe(2);
    });

    it('deleteBefore drops older points, keeps the cutoff, and forgets series left empty', async (ctx) => {
      if (!can.deleteBefore) return ctx.skip('deleteBefore is a no-op for this store (server-side retention)');
      await store.write([10, 20, 30, 40, 50].map((ts) => pt('a', 'm', ts, ts)));
      await store.write([pt('a', 'old', 5, 1), pt('b', 'old', 25, 1)]);
      await store.deleteBefore(30);
      expect(plain(await all({ account: 'a', metric: 'm' }))).toEqual({ ts: [30, 40, 50], values: [30, 40, 50] });
      expect(plain(await all({ account: 'a', metric: 'old' }))).toEqual({ ts: [], values: [] });
      expect(await store.listSeries()).toEqual([{ account: 'a', metric: 'm', points: 3, firstMs: 30, lastMs: 50 }]);
      expect(await store.seriesCount('a')).toBe(1);
      expect(await store.seriesCount('b')).toBe(0);
      await store.write([pt('b', 'old', 60, 6)]);
      expect(await store.seriesCount('b')).toBe(1);
      expect(plain(await all({ account: 'b', metric: 'old' }))).toEqual({ ts: [60], values: [6] });
    });

    it('answers empty for unknown series, an empty store and an empty write', async () => {
      await store.write([]);
      expect(await store.listSeries()).toEqual([]);
      const r = await all({ account: 'ghost', metric: 'cpu' });
      expect(r.tsMs).toBeInstanceOf(Float64Array);
      expect(plain(r)).toEqual({ ts: [], values: [] });
      await store.deleteBefore(1000);
      expect(await store.seriesCount('ghost')).toBe(0);
    });

    it('keeps many series apart in one write', async () => {
      const points: Point[] = [];
      for (let s = 0; s < 300; s++) for (let t = 0; t < 20; t++) points.push(pt(`acct-${s % 30}`, `metric-${s}`, t * 1000, s * 100 + t));
      await store.write(points);
      expect(await store.seriesCount('acct-7')).toBe(10);
      expect((await store.listSeries()).length).toBe(300);
      for (const s of [0, 1, 149, 299]) {
        const r = await all({ account: `acct-${s % 30}`, metric: `metric-${s}` });
        expect(Array.from(r.values)).toEqual(Array.from({ length: 20 }, (_, t) => s * 100 + t));
      }
    });

    it('stores values and timestamps bit for bit', async () => {
      const values = can.exactValues
        ? [0.1, -0, 1e-300, Number.MAX_VALUE, -123456.789, 2 ** 53, 3]
        : [0.1, 0, 1e-3, 123456.789012, -123456.789, 2 ** 30, 3, 212.5];
      // with a time origin the origin brings the epoch magnitude
      const base = harness.timeOriginMs === undefined ? 1_700_000_000_000 : 1_000;
      const step = can.subMillisecondTimestamps ? 0.25 : 1;
      await store.write(values.map((v, i) => pt('a', 'm', base + i * step, v)));
      const r = await all({ account: 'a', metric: 'm' });
      expect(Array.from(r.values)).toEqual(values);
      if (can.exactValues) expect(Object.is(r.values[1], -0)).toBe(true);
      expect(Array.from(r.tsMs)).toEqual(values.map((_, i) => base + i * step));
    });

    it.each([
      { what: 'a NaN value', bad: pt('a', 'm', 20, NaN) },
      { what: 'an infinite value', bad: pt('a', 'm', 20, Infinity) },
      { what: 'a negative infinite value', bad: pt('a', 'm', 20, -Infinity) },
      { what: 'a NaN timestamp', bad: pt('a', 'm', NaN, 1) },
      { what: 'an infinite timestamp', bad: pt('a', 'm', Infinity, 1) },
    ])('rejects a write holding $what and stores none of its points', async ({ bad }) => {
      await expect(store.write([pt('a', 'm', 10, 1), pt('b', 'new', 10, 1), bad])).rejects.toThrow(/non-finite/);
      expect(plain(await all({ account: 'a', metric: 'm' }))).toEqual({ ts: [], values: [] });
      expect(await store.seriesCount('b')).toBe(0);
      expect(await store.listSeries()).toEqual([]);
      await store.write([pt('a', 'm', 30, 3)]);
      expect(plain(await all({ account: 'a', metric: 'm' }))).toEqual({ ts: [30], values: [3] });
    });

    it('survives a reopen: points, duplicates resolved, series and deletions', async (ctx) => {
      if (harness.reopen === undefined) return ctx.skip();
      await store.write([pt('acme', 'cpu', 10, 1), pt('acme', 'cpu', 20, 2), pt('acme', 'mem', 5, 7)]);
      if (can.deleteBefore) await store.write([pt('old', 'x', 1, 1)]);
      await store.write([pt('acme', 'cpu', 10, 11)]);
      await store.deleteBefore(2);
      store = view(await harness.reopen());
      const cpu = plain(await all({ account: 'acme', metric: 'cpu' }));
      expect(cpu).toEqual({ ts: [10, 20], values: [can.lastWriteWins ? 11 : cpu.values[0], 2] });
      expect([1, 11]).toContain(cpu.values[0]);
      expect((await store.listSeries()).sort(byKey)).toEqual([
        { account: 'acme', metric: 'cpu', points: 2, firstMs: 10, lastMs: 20 },
        { account: 'acme', metric: 'mem', points: 1, firstMs: 5, lastMs: 5 },
      ]);
      expect(await store.seriesCount('old')).toBe(0);
      await store.write([pt('acme', 'cpu', 30, 3)]);
      expect(plain(await all({ account: 'acme', metric: 'cpu' }))).toEqual({ ts: [10, 20, 30], values: [cpu.values[0], 2, 3] });
    });
  });
}
