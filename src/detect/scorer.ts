/**
 * The scoring stage: routes every point to the detectors of the series it belongs to (a rule's
 * metric, either side of a rule's ratio, or, for metrics no rule watches, a default detector that
 * only feeds the health score), joins ratio numerators and denominators by timestamp, and keeps
 * each series' latest score for the health score. No I/O: checkpoints go in and out as bytes.
 */
import type { AnomalyScore, Direction, Point } from '../domain/types.ts';
import type { LimitSpec } from '../config/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { createForecaster, emptyForecast, type Forecast, type Forecaster } from './forecast.ts';

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
  ratio?: { numerator: string; denominator: string; minDenominator: number };
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

interface Entry {
  watch: Watch;
  detector: SeriesDetector | undefined;
  /** forecast streams only */
  forecaster: Forecaster | undefined;
  lastMs: number;
  /** the latest state, without its optional parts: those live in the fields below, so that the
   * object never changes shape on the hot path (a `delete` would make V8 fall back to slow
   * dictionary properties for it) */
  health: SeriesHealth;
  /** event time since which the series is anomalous; NaN when it is not */
  sinceMs: number;
  /** latest forecast (forecast streams); NaN when none */
  fcCrossingMs: number;
  fcLimit: number;
  dirty: boolean;
  // ratio join: latest numerator / denominator seen
  numMs: number;
  numValue: number;
  denMs: number;
  denValue: number;
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
  // metric -> watches that read it (as metric, numerator or denominator)
  const byMetric = new Map<string, Watch[]>();
  const add = (m: string, w: Watch) => {
    const list = byMetric.get(m);
    if (list) list.push(w);
    else byMetric.set(m, [w]);
  };
  for (const w of options.watches) {
    if (w.metric !== undefined) add(w.metric, w);
    if (w.ratio) {
      add(w.ratio.numerator, w);
      if (w.ratio.denominator !== w.ratio.numerator) add(w.ratio.denominator, w);
    }
  }
  const defaults = new Map<string, Watch>();
  const defaultWatch = (metric: string): Watch => {
    let w = defaults.get(metric);
    if (!w) {
      w = { id: `metric:${metric}`, series: metric, metric, factory: options.defaultFactory, ruled: false };
      if (options.defaultFactoryAt) w.factoryAt = options.defaultFactoryAt;
      defaults.set(metric, w);
    }
    return w;
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

  const accounts = new Map<string, Map<string, Entry>>();
  const entryFor = (account: string, watch: Watch): Entry => {
    let m = accounts.get(account);
    if (!m) {
      m = new Map();
      accounts.set(account, m);
    }
    let e = m.get(watch.id);
    if (!e) {
      e = {
        watch,
        detector: undefined,
        forecaster: undefined,
        lastMs: -Infinity,
        sinceMs: NaN,
        fcCrossingMs: NaN,
        fcLimit: NaN,
        health: {
          series: watch.series,
          ruled: watch.ruled,
          score: 0,
          direction: 'none',
          expected: NaN,
          observed: NaN,
          lastMs: 0,
          watch: watch.id,
        },
        dirty: false,
        numMs: NaN,
        numValue: NaN,
        denMs: NaN,
        denValue: NaN,
      };
      m.set(watch.id, e);
    }
    return e;
  };

  const detectorOf = (account: string, e: Entry): SeriesDetector => {
    if (!e.detector) {
      const snap = options.loadSnapshot?.(seriesKey(account, e.watch.id));
      const factory = factoryOf(e.watch, options.utcOffsetOf?.(account) ?? 0);
      try {
        e.detector = factory.create(snap);
      } catch {
        // a checkpoint from an incompatible version or other options: start the series afresh
        e.detector = factory.create();
      }
    }
    return e.detector;
  };

  // forecast streams: one companion watch per watch with a limit
  const forecastWatches = new Map<Watch, Watch>();
  for (const w of options.watches) {
    if (w.limit) forecastWatches.set(w, { id: forecastWatchId(w.id), series: w.series, factory: w.factory, ruled: w.ruled, forecastOf: w });
  }
  const forecasterOf = (account: string, e: Entry, limit: LimitSpec): Forecaster => {
    if (!e.forecaster) {
      const opts = { limit: limit.value, when: limit.when, horizonMs: limit.horizonMs };
      const snap = options.loadSnapshot?.(seriesKey(account, e.watch.id));
      try {
        e.forecaster = createForecaster(opts, snap);
      } catch {
        e.forecaster = createForecaster(opts);
      }
    }
    return e.forecaster;
  };
  const fc = emptyForecast();
  const fcScore: AnomalyScore = { score: 0, direction: 'none', expected: NaN, observed: NaN, deviation: 0, detector: 'forecast' };
  /** the forecast stream of a point: emitted before the anomaly score, so an advisor sees the forecast first */
  const feedForecast = (account: string, watch: Watch, tsMs: number, value: number, onScored: (p: ScoredPoint) => void) => {
    const fw = forecastWatches.get(watch);
    if (!fw || !watch.limit) return;
    const e = entryFor(account, fw);
    if (tsMs < e.lastMs) return;
    forecasterOf(account, e, watch.limit).update(tsMs, value, fc);
    e.lastMs = tsMs;
    e.dirty = true;
    fcScore.score = fc.score;
    fcScore.direction = fc.score > 0 ? (watch.limit.when === 'below' ? 'down' : 'up') : 'none';
    fcScore.expected = fc.fitted;
    fcScore.observed = value;
    fcScore.deviation = 0;
    const h = e.health;
    h.score = fc.score;
    h.direction = fcScore.direction;
    h.expected = fc.fitted;
    h.observed = value;
    h.lastMs = tsMs;
    e.fcCrossingMs = fc.crossingMs;
    e.fcLimit = watch.limit.value;
    stats.scored += 1;
    out.account = account;
    out.watch = fw;
    out.tsMs = tsMs;
    out.value = value;
    out.score = fcScore;
    out.forecast = fc;
    onScored(out);
    out.forecast = undefined;
  };

  const stats: ScoreStats = { scored: 0, late: 0 };
  // reused for every point: the hot path allocates nothing per point (see `score`)
  const scratch: AnomalyScore = { score: 0, direction: 'none', expected: NaN, observed: NaN, deviation: 0, detector: '' };
  const out: ScoredPoint = { account: '', watch: options.watches[0] ?? defaultWatch(''), tsMs: 0, value: 0, score: scratch };

  const feed = (account: string, e: Entry, tsMs: number, value: number, onScored: (p: ScoredPoint) => void) => {
    if (tsMs < e.lastMs) {
      stats.late += 1;
      return;
    }
    if (e.watch.limit) feedForecast(account, e.watch, tsMs, value, onScored);
    const det = detectorOf(account, e);
    const score = det.updateInto ? det.updateInto(tsMs, value, scratch) : det.update(tsMs, value);
    // below the rule's floor the detector still learns, but the point counts as normal
    // (e.g. 3 failed webhooks on an account that usually has 0 is not an incident)
    if (e.watch.minValue !== undefined && value < e.watch.minValue && score.score > 0) {
      score.score = 0;
      score.direction = 'none';
    }
    e.lastMs = tsMs;
    e.dirty = true;
    const h = e.health;
    h.score = score.score;
    h.direction = score.direction;
    h.expected = score.expected;
    h.observed = score.observed;
    h.lastMs = tsMs;
    if (score.score >= anomalousAt) {
      if (e.sinceMs !== e.sinceMs) e.sinceMs = tsMs; // NaN: not anomalous until now
    } else e.sinceMs = NaN;
    stats.scored += 1;
    out.account = account;
    out.watch = e.watch;
    out.tsMs = tsMs;
    out.value = value;
    out.score = score;
    onScored(out);
  };

  return {
    score(points, onScored) {
      stats.scored = 0;
      stats.late = 0;
      for (const p of points) {
        const watches = byMetric.get(p.metric);
        if (!watches) {
          feed(p.account, entryFor(p.account, defaultWatch(p.metric)), p.tsMs, p.value, onScored);
          continue;
        }
        for (const w of watches) {
          const e = entryFor(p.account, w);
          if (w.metric === p.metric) feed(p.account, e, p.tsMs, p.value, onScored);
          if (w.ratio) {
            if (w.ratio.numerator === p.metric) {
              e.numMs = p.tsMs;
              e.numValue = p.value;
            }
            if (w.ratio.denominator === p.metric) {
              e.denMs = p.tsMs;
              e.denValue = p.value;
            }
            if (e.numMs === e.denMs && e.numMs === p.tsMs) {
              const den = e.denValue;
              const num = e.numValue;
              e.numMs = NaN;
              e.denMs = NaN;
              if (den >= w.ratio.minDenominator && den > 0) feed(p.account, e, p.tsMs, num / den, onScored);
            }
          }
        }
      }
      return { ...stats };
    },
    health(account) {
      const m = accounts.get(account);
      if (!m) return [];
      return [...m.values()]
        .filter((e) => e.detector !== undefined || e.forecaster !== undefined)
        .map((e) => ({
          ...e.health,
          ...(Number.isNaN(e.sinceMs) ? {} : { anomalousSinceMs: e.sinceMs }),
          ...(Number.isNaN(e.fcLimit) ? {} : { forecast: { crossingMs: e.fcCrossingMs, limit: e.fcLimit } }),
        }));
    },
    dirtySnapshots() {
      const out: Array<[string, Uint8Array]> = [];
      for (const [account, m] of accounts) {
        for (const e of m.values()) {
          if (e.dirty && (e.detector || e.forecaster)) {
            out.push([seriesKey(account, e.watch.id), (e.detector ?? e.forecaster)!.snapshot()]);
            e.dirty = false;
          }
        }
      }
      return out;
    },
    stats() {
      let series = 0;
      let stateBytes = 0;
      for (const m of accounts.values()) {
        for (const e of m.values()) {
          if (e.detector) {
            series += 1;
            stateBytes += e.detector.stateBytes;
          }
          if (e.forecaster) stateBytes += e.forecaster.stateBytes;
        }
      }
      return { series, stateBytes };
    },
  };
}
