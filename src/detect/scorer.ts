/**
 * The scoring stage: routes every point to the detectors of the series it belongs to (a rule's
 * metric, either side of a rule's ratio, or, for metrics no rule watches, a default detector that
 * only feeds the health score), joins ratio numerators and denominators by timestamp, and keeps
 * each series' latest score for the health score. No I/O: checkpoints go in and out as bytes.
 *
 * Memory: besides its detector (and forecaster), a series costs a few slots in its account's
 * arrays (see {@link AccountSeries}): 1,465 bytes per account of 6 series and 2 forecast streams,
 * measured as `bench/run.ts` does with the models left out (one object per series, its health
 * object and a Map per account took 3,903). No closures or objects are created per series here:
 * under tsx (which keeps function names) each closure would also carry a 256-byte property array.
 */
import type { AnomalyScore, Direction, Point } from '../domain/types.ts';
import type { LimitSpec } from '../config/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { emptyForecast, forecasterFactory, type Forecast, type Forecaster, type ForecasterFactory } from './forecast.ts';

/** The id of the forecast stream of a rule with a limit: scored and advised as a rule of its own. */
export function forecastWatchId(ruleId: string): string {
  return `${ruleId}:forecast`;
}

/** One watched series shape: what a rule (or the default) scores. */
export interface Watch {
  /** rule name, or `metric:<name>` for the default watch of an unwatched metric */
  id: string;
  /** display name of the series: metric or `numerator/denominator` */
  series: string;
  metric?: string;
  /**
   * the ratio of two metrics joined by timestamp: points with a denominator below `minDenominator`
   * are skipped, points with a numerator below `minNumerator` always score 0 (learned all the same)
   */
  ratio?: { numerator: string; denominator: string; minDenominator: number; minNumerator?: number };
  /** points with observed values below this always score 0 (the detector still learns from them) */
  minValue?: number;
  factory: DetectorFactory;
  /** the same detector for a series whose local time is `utcOffsetMinutes` from UTC */
  factoryAt?: (utcOffsetMinutes: number) => DetectorFactory;
  /** true when a rule acts on this watch (false: health only) */
  ruled: boolean;
  /**
   * the rule's limit: besides its anomaly score, every point also feeds a forecaster whose
   * forecast is emitted as a second scored stream, watch id `<rule>:forecast` (see forecast.ts)
   */
  limit?: LimitSpec;
  /** set on the forecast stream's watch: the watch it forecasts */
  forecastOf?: Watch;
}

/** A point scored by one watch. */
export interface ScoredPoint {
  account: string;
  watch: Watch;
  tsMs: number;
  value: number;
  score: AnomalyScore;
  /** on forecast streams: the forecast behind the score */
  forecast?: Forecast | undefined;
}

/** The latest state of one series of an account, for the health score. */
export interface SeriesHealth {
  series: string;
  ruled: boolean;
  score: number;
  direction: Direction;
  expected: number;
  observed: number;
  lastMs: number;
  /** event time since which the series is anomalous (score >= 0.5), if it is */
  anomalousSinceMs?: number;
  /** the watch: rule name, `<rule>:forecast` or `metric:<name>` */
  watch?: string;
  /** forecast streams: predicted crossing of the limit (NaN: none) and the limit */
  forecast?: { crossingMs: number; limit: number };
}

/**
 * The scorer's own record of a watch (a rule, the forecast stream of a rule with a limit, or the
 * default watch of an unwatched metric): built once per scorer, shared by every account.
 */
interface Route {
  watch: Watch;
  /** the forecast stream of a watch with a limit */
  forecast: Route | undefined;
  /** ratio watches: where this ratio's join state starts in an account's `joins` */
  joinAt: number;
}

// Per-series numbers, SLOTS doubles per series in the account's `nums` array.
/** event time of the last scored point (-Infinity before the first) */
const S_LAST = 0;
const S_SCORE = 1;
const S_EXPECTED = 2;
const S_OBSERVED = 3;
/** detector series: event time since which it is anomalous (NaN: it is not); forecast streams: the predicted crossing (NaN: none) */
const S_SINCE = 4;
/** direction of the latest score, as {@link DIRECTIONS} index */
const S_DIRECTION = 5;
/** 1 when changed since the last checkpoint */
const S_DIRTY = 6;
const SLOTS = 7;
const FRESH_SERIES: readonly number[] = [-Infinity, 0, NaN, NaN, NaN, 0, 0];
const DIRECTIONS: readonly Direction[] = ['none', 'up', 'down'];
const directionCode = (d: Direction): number => (d === 'up' ? 1 : d === 'down' ? 2 : 0);
// ratio join state, JOIN_SLOTS doubles per ratio watch in the account's `joins`: the latest numerator and denominator seen
const J_NUM_MS = 0;
const J_NUM_VALUE = 1;
const J_DEN_MS = 2;
const J_DEN_VALUE = 3;
const JOIN_SLOTS = 4;
/** above this many series an account gets an index from route to position (below it a scan of a few references does, with no memory) */
const SCAN_MAX = 8;

/**
 * The series of one account: parallel arrays, one position per series in creation order, sized
 * exactly (a series is added by copying, which is rare; points only read and write). One object
 * and a few arrays per account rather than objects per series: V8 boxes every double held in an
 * object field (16 bytes each), but stores a double array's elements unboxed.
 */
class AccountSeries {
  routes: Route[] = [];
  /** the detector (or forecaster, on forecast streams); undefined until the first point scored */
  models: Array<SeriesDetector | Forecaster | undefined> = [];
  nums: number[] = [];
  /** ratio join state; created with the account's first numerator or denominator */
  joins: number[] | undefined = undefined;
  /** route -> position, once the account has more than {@link SCAN_MAX} series */
  index: Map<Route, number> | undefined = undefined;

  /** position of `route`'s series, added when new */
  slotOf(route: Route): number {
    const routes = this.routes;
    if (this.index === undefined) {
      for (let i = 0; i < routes.length; i++) if (routes[i] === route) return i;
    } else {
      const i = this.index.get(route);
      if (i !== undefined) return i;
    }
    const i = routes.length;
    this.routes = routes.concat([route]);
    this.models = this.models.concat([undefined]);
    this.nums = this.nums.concat(FRESH_SERIES);
    if (this.index !== undefined) this.index.set(route, i);
    else if (i + 1 > SCAN_MAX) this.index = new Map(this.routes.map((r, k) => [r, k]));
    return i;
  }
}

export interface ScorerOptions {
  watches: readonly Watch[];
  /** detector for metrics that no rule watches */
  defaultFactory: DetectorFactory;
  defaultFactoryAt?: (utcOffsetMinutes: number) => DetectorFactory;
  /** restores a series' checkpoint (bytes from `dirtySnapshots`) */
  loadSnapshot?: (key: string) => Uint8Array | undefined;
  /** UTC offset (minutes) of an account's local time, asked once per new series (default 0) */
  utcOffsetOf?: (account: string) => number;
  /** a score at or above this marks a series anomalous in the health view */
  anomalousAt?: number;
}

export interface ScoreStats {
  scored: number;
  /** points older than their series' last scored point (stored, not scored) */
  late: number;
}

export interface Scorer {
  /**
   * scores points in order; calls `onScored` for each score produced. The ScoredPoint (and its
   * score) passed to `onScored` is reused for the next point: copy what you keep.
   */
  score(points: readonly Point[], onScored: (p: ScoredPoint) => void): ScoreStats;
  /** latest per-series state of an account */
  health(account: string): SeriesHealth[];
  /** snapshots of series changed since the last call, as [key, bytes] */
  dirtySnapshots(): Array<[string, Uint8Array]>;
  /** number of active series and the bytes their detectors hold */
  stats(): { series: number; stateBytes: number };
}

/** The checkpoint key of one account x watch. */
export function seriesKey(account: string, watchId: string): string {
  return `det\u0000${account}\u0000${watchId}`;
}

/** Creates the scoring stage. */
export function createScorer(options: ScorerOptions): Scorer {
  const anomalousAt = options.anomalousAt ?? 0.5;
  // one route per watch; a watch with a limit also gets one for its forecast stream
  let ratios = 0;
  const routeOf = (w: Watch): Route => {
    const forecast = w.limit
      ? {
          watch: { id: forecastWatchId(w.id), series: w.series, factory: w.factory, ruled: w.ruled, forecastOf: w },
          forecast: undefined,
          joinAt: -1,
        }
      : undefined;
    return { watch: w, forecast, joinAt: w.ratio ? JOIN_SLOTS * ratios++ : -1 };
  };
  // metric -> routes that read it (as metric, numerator or denominator)
  const byMetric = new Map<string, Route[]>();
  const add = (m: string, r: Route) => {
    const list = byMetric.get(m);
    if (list) list.push(r);
    else byMetric.set(m, [r]);
  };
  for (const w of options.watches) {
    const r = routeOf(w);
    if (w.metric !== undefined) add(w.metric, r);
    if (w.ratio) {
      add(w.ratio.numerator, r);
      if (w.ratio.denominator !== w.ratio.numerator) add(w.ratio.denominator, r);
    }
  }
  const defaults = new Map<string, Route>();
  const defaultRoute = (metric: string): Route => {
    let r = defaults.get(metric);
    if (!r) {
      const w: Watch = { id: `metric:${metric}`, series: metric, metric, factory: options.defaultFactory, ruled: false };
      if (options.defaultFactoryAt) w.factoryAt = options.defaultFactoryAt;
      r = { watch: w, forecast: undefined, joinAt: -1 };
      defaults.set(metric, r);
    }
    return r;
  };

  // one factory per watch x offset, built once
  const atOffset = new Map<Watch, Map<number, DetectorFactory>>();
  const factoryOf = (w: Watch, offset: number): DetectorFactory => {
    if (offset === 0 || !w.factoryAt) return w.factory;
    let m = atOffset.get(w);
    if (!m) atOffset.set(w, (m = new Map()));
    let f = m.get(offset);
    if (!f) m.set(offset, (f = w.factoryAt(offset)));
    return f;
  };

  const accounts = new Map<string, AccountSeries>();
  const accountOf = (account: string): AccountSeries => {
    let a = accounts.get(account);
    if (!a) accounts.set(account, (a = new AccountSeries()));
    return a;
  };

  /**
   * The model of series `i` of account `a`, created on its first point: restored from its
   * checkpoint when there is one, else (or when the checkpoint is from an incompatible version or
   * other options) fresh.
   */
  const modelOf = <M extends SeriesDetector | Forecaster>(
    account: string,
    a: AccountSeries,
    i: number,
    factory: { create(snapshot?: Uint8Array): M },
  ): M => {
    const snap = options.loadSnapshot?.(seriesKey(account, a.routes[i]!.watch.id));
    let model: M;
    try {
      model = factory.create(snap);
    } catch {
      model = factory.create();
    }
    a.models[i] = model;
    return model;
  };
  const detectorOf = (account: string, a: AccountSeries, i: number): SeriesDetector =>
    (a.models[i] as SeriesDetector | undefined) ??
    modelOf(account, a, i, factoryOf(a.routes[i]!.watch, options.utcOffsetOf?.(account) ?? 0));

  // one forecaster factory per limit, built once: its forecasters share the model
  const forecasters = new Map<LimitSpec, ForecasterFactory>();
  const forecasterOf = (account: string, a: AccountSeries, i: number, limit: LimitSpec): Forecaster => {
    const f = a.models[i] as Forecaster | undefined;
    if (f) return f;
    let factory = forecasters.get(limit);
    if (!factory) {
      factory = forecasterFactory({ limit: limit.value, when: limit.when, horizonMs: limit.horizonMs });
      forecasters.set(limit, factory);
    }
    return modelOf(account, a, i, factory);
  };
  /** keeps a series' latest score in its slots (all but S_SINCE, which the two kinds of stream use differently) */
  const record = (nums: number[], at: number, tsMs: number, score: AnomalyScore): void => {
    nums[at + S_LAST] = tsMs;
    nums[at + S_DIRTY] = 1;
    nums[at + S_SCORE] = score.score;
    nums[at + S_DIRECTION] = directionCode(score.direction);
    nums[at + S_EXPECTED] = score.expected;
    nums[at + S_OBSERVED] = score.observed;
  };
  /** counts a scored point and hands it on (in the reused `out`) */
  const emit = (account: string, watch: Watch, tsMs: number, value: number, score: AnomalyScore, onScored: (p: ScoredPoint) => void) => {
    stats.scored += 1;
    out.account = account;
    out.watch = watch;
    out.tsMs = tsMs;
    out.value = value;
    out.score = score;
    onScored(out);
  };
  const fc = emptyForecast();
  const fcScore: AnomalyScore = { score: 0, direction: 'none', expected: NaN, observed: NaN, deviation: 0, detector: 'forecast' };
  /** the forecast stream of a point: emitted before the anomaly score, so an advisor sees the forecast first */
  const feedForecast = (
    account: string,
    a: AccountSeries,
    route: Route,
    limit: LimitSpec,
    tsMs: number,
    value: number,
    onScored: (p: ScoredPoint) => void,
  ) => {
    const i = a.slotOf(route);
    const nums = a.nums;
    const at = i * SLOTS;
    if (tsMs < nums[at + S_LAST]!) return;
    forecasterOf(account, a, i, limit).update(tsMs, value, fc);
    fcScore.score = fc.score;
    fcScore.direction = fc.score > 0 ? (limit.when === 'below' ? 'down' : 'up') : 'none';
    fcScore.expected = fc.fitted;
    fcScore.observed = value;
    fcScore.deviation = 0;
    record(nums, at, tsMs, fcScore);
    nums[at + S_SINCE] = fc.crossingMs;
    out.forecast = fc;
    emit(account, route.watch, tsMs, value, fcScore, onScored);
    out.forecast = undefined;
  };

  const stats: ScoreStats = { scored: 0, late: 0 };
  // reused for every point: the hot path allocates nothing per point (see `score`)
  const scratch: AnomalyScore = { score: 0, direction: 'none', expected: NaN, observed: NaN, deviation: 0, detector: '' };
  const out: ScoredPoint = { account: '', watch: options.watches[0] ?? defaultRoute('').watch, tsMs: 0, value: 0, score: scratch };

  /** `count`: a ratio point's numerator (NaN for a metric), held against the watch's minNumerator */
  const feed = (
    account: string,
    a: AccountSeries,
    i: number,
    tsMs: number,
    value: number,
    onScored: (p: ScoredPoint) => void,
    count = NaN,
  ) => {
    if (tsMs < a.nums[i * SLOTS + S_LAST]!) {
      stats.late += 1;
      return;
    }
    const route = a.routes[i]!;
    const watch = route.watch;
    if (route.forecast && watch.limit) feedForecast(account, a, route.forecast, watch.limit, tsMs, value, onScored);
    const det = detectorOf(account, a, i);
    const score = det.updateInto ? det.updateInto(tsMs, value, scratch) : det.update(tsMs, value);
    // below the rule's floor the detector still learns, but the point counts as normal
    // (e.g. 3 failed webhooks on an account that usually has 0 is not an incident)
    // ... and a ratio over a handful of events: 2 failed requests out of 50 is a 4% error rate, and
    // on an account that fails 1 in 300 a chance pair of them, not an incident
    const fewEvents = count < (watch.ratio?.minNumerator ?? -Infinity);
    if (((watch.minValue !== undefined && value < watch.minValue) || fewEvents) && score.score > 0) {
      score.score = 0;
      score.direction = 'none';
    }
    // read after the forecast stream: adding its series replaces the array
    const nums = a.nums;
    const at = i * SLOTS;
    record(nums, at, tsMs, score);
    if (score.score >= anomalousAt) {
      if (Number.isNaN(nums[at + S_SINCE])) nums[at + S_SINCE] = tsMs; // not anomalous until now
    } else nums[at + S_SINCE] = NaN;
    emit(account, watch, tsMs, value, score, onScored);
  };

  return {
    score(points, onScored) {
      stats.scored = 0;
      stats.late = 0;
      // consecutive points usually share their account (and its string: the parsers intern them)
      let account = '';
      let a: AccountSeries | undefined;
      for (const p of points) {
        if (a === undefined || p.account !== account) {
          account = p.account;
          a = accountOf(account);
        }
        const routes = byMetric.get(p.metric);
        if (!routes) {
          feed(account, a, a.slotOf(defaultRoute(p.metric)), p.tsMs, p.value, onScored);
          continue;
        }
        for (const r of routes) {
          const i = a.slotOf(r);
          const w = r.watch;
          if (w.metric === p.metric) feed(account, a, i, p.tsMs, p.value, onScored);
          if (w.ratio) {
            const j = (a.joins ??= new Array<number>(JOIN_SLOTS * ratios).fill(NaN));
            const at = r.joinAt;
            if (w.ratio.numerator === p.metric) {
              j[at + J_NUM_MS] = p.tsMs;
              j[at + J_NUM_VALUE] = p.value;
            }
            if (w.ratio.denominator === p.metric) {
              j[at + J_DEN_MS] = p.tsMs;
              j[at + J_DEN_VALUE] = p.value;
            }
            if (j[at + J_NUM_MS] === j[at + J_DEN_MS] && j[at + J_NUM_MS] === p.tsMs) {
              const den = j[at + J_DEN_VALUE]!;
              const num = j[at + J_NUM_VALUE]!;
              j[at + J_NUM_MS] = NaN;
              j[at + J_DEN_MS] = NaN;
              if (den >= w.ratio.minDenominator && den > 0) feed(account, a, i, p.tsMs, num / den, onScored, num);
            }
          }
        }
      }
      return { ...stats };
    },
    health(account) {
      const a = accounts.get(account);
      if (!a) return [];
      const list: SeriesHealth[] = [];
      for (let i = 0; i < a.routes.length; i++) {
        if (a.models[i] === undefined) continue;
        const w = a.routes[i]!.watch;
        const at = i * SLOTS;
        const nums = a.nums;
        const h: SeriesHealth = {
          series: w.series,
          ruled: w.ruled,
          score: nums[at + S_SCORE]!,
          direction: DIRECTIONS[nums[at + S_DIRECTION]!]!,
          expected: nums[at + S_EXPECTED]!,
          observed: nums[at + S_OBSERVED]!,
          lastMs: nums[at + S_LAST]!,
          watch: w.id,
        };
        const limit = w.forecastOf?.limit;
        if (limit) h.forecast = { crossingMs: nums[at + S_SINCE]!, limit: limit.value };
        else if (!Number.isNaN(nums[at + S_SINCE])) h.anomalousSinceMs = nums[at + S_SINCE]!;
        list.push(h);
      }
      return list;
    },
    dirtySnapshots() {
      const out: Array<[string, Uint8Array]> = [];
      for (const [account, a] of accounts) {
        for (let i = 0; i < a.routes.length; i++) {
          const model = a.models[i];
          if (model !== undefined && a.nums[i * SLOTS + S_DIRTY] === 1) {
            out.push([seriesKey(account, a.routes[i]!.watch.id), model.snapshot()]);
            a.nums[i * SLOTS + S_DIRTY] = 0;
          }
        }
      }
      return out;
    },
    stats() {
      let series = 0;
      let stateBytes = 0;
      for (const a of accounts.values()) {
        for (let i = 0; i < a.routes.length; i++) {
          const model = a.models[i];
          if (model === undefined) continue;
          // forecasters hold state but are not series of their own
          if (a.routes[i]!.watch.forecastOf === undefined) series += 1;
          stateBytes += model.stateBytes;
        }
      }
      return { series, stateBytes };
    },
  };
}
