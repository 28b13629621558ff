/**
 * The composition root: builds every stage from configuration in one straight line and shuts
 * them down in reverse order. Everything with a side effect is passed in or created here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import type { ServerConfig } from './config/server-config.ts';
import type { RulesBundle, TierSpec } from './config/types.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { utcOffsetMinutes } from './domain/timezone.ts';
import { accountRecord } from './domain/account.ts';
import { createAdvisor, type Advisor } from './advise/advisor.ts';
import { escalationAdvisory, sweepSlos } from './advise/slo.ts';
import { detectorFactoryFor } from './detect/combined.ts';
import { createScorer, type Scorer, type Watch } from './detect/scorer.ts';
import { accountHealth, createHealthWeights, healthTopLine } from './detect/account-health.ts';
import { createGapTracker, fleetSilence } from './detect/data-gap.ts';
import { createDataGapReporter } from './advise/data-gap-reporter.ts';

/** The whole fleet is reported silent after this much wall time without a batch. */
export const FLEET_SILENCE_MS = 15 * 60_000;
import { createIngestService, type IngestService } from './ingest/ingest-service.ts';
import { createSourceScheduler, type SourceScheduler } from './ingest/pull/scheduler.ts';
import { createApi } from './api/routes.ts';
import { createEmlFileNotifier } from './notify/email/eml-files.ts';
import { createSmtpNotifier } from './notify/email/smtp.ts';
import type { Notifier } from './notify/notifier.ts';
import { createOutbox, type Outbox } from './notify/outbox.ts';
import { createEmbeddedStore } from './store/embedded/embedded-store.ts';
import { createInfluxOutputSink } from './store/influx/influx-output-sink.ts';
import { createInfluxStore, type InfluxStore } from './store/influx/influx-store.ts';
import { checkInfluxServer } from './store/influx/server-check.ts';
import { noopOutputSink, type OutputSink } from './store/output-sink.ts';
import { createSqliteStateStore } from './store/sqlite/sqlite-state-store.ts';
import type { StateStore } from './store/state-store.ts';
import type { TimeSeriesStore } from './store/time-series-store.ts';
import { createMetrics, type Metrics } from './telemetry/metrics.ts';

export interface ForewarnOptions {
  config: ServerConfig;
  rules: RulesBundle;
  clock?: Clock;
  metrics?: Metrics;
  /** overrides the notifier chosen from config (tests) */
  notifier?: Notifier;
  /** overrides the stores chosen from config (tests) */
  state?: StateStore;
  store?: TimeSeriesStore;
  /** overrides the output sink chosen from config (tests) */
  sink?: OutputSink;
  /** environment read by pull sources for `url_env` / `headers_env` (default process.env) */
  sourceEnv?: Readonly<Record<string, string | undefined>>;
}

export interface Forewarn {
  app: Hono<any>;
  config: ServerConfig;
  rules: RulesBundle;
  state: StateStore;
  store: TimeSeriesStore;
  /** where anomaly, health, signal and advisory outputs go (a no-op with the embedded store) */
  sink: OutputSink;
  scorer: Scorer;
  advisor: Advisor;
  ingest: IngestService;
  /** the pull sources of rules/sources.yaml */
  sources: SourceScheduler;
  outbox: Outbox;
  notifier: Notifier;
  metrics: Metrics;
  /** writes detector and episode state so a restart continues where this one stopped */
  checkpoint(): void;
  /** checks ticket SLOs and queues escalation emails; returns the number of breaches found */
  sweepTickets(): number;
  /** checks for a whole-fleet silence (wall time) and reports or clears it; returns whether the fleet is silent */
  checkFleetSilence(): boolean;
  /** starts the background loops (outbox, checkpoints, retention, SLO sweep) */
  start(): void;
  close(): Promise<void>;
}

/** The detector watches of the rules: one per rule. */
export function watchesOf(rules: RulesBundle): Watch[] {
  return rules.rules.rules.map((r) => {
    const zFloor = r.sensitivitySigmas !== undefined ? { zFloor: r.sensitivitySigmas } : {};
    const w: Watch = {
      id: r.name,
      series: r.series,
      factory: detectorFactoryFor(r.detector, r.direction, { seasonal: { ...zFloor } }),
      factoryAt: (utcOffsetMinutes) => detectorFactoryFor(r.detector, r.direction, { seasonal: { ...zFloor, utcOffsetMinutes } }),
      ruled: true,
    };
    if (r.metric !== undefined) w.metric = r.metric;
    if (r.ratio) w.ratio = r.ratio;
    if (r.minValue !== undefined) w.minValue = r.minValue;
    if (r.limit) w.limit = r.limit;
    return w;
  });
}

/** Seeds the accounts of rules/accounts.yaml that do not exist yet. */
function seedAccounts(rules: RulesBundle, state: StateStore, nowMs: number): void {
  state.transaction(() => {
    for (const s of rules.accounts) {
      if (state.getAccount(s.id)) continue;
      state.upsertAccount(accountRecord(s, nowMs, nowMs));
    }
  });
}

/** Builds a Forewarn instance from validated configuration. */
export async function createForewarn(options: ForewarnOptions): Promise<Forewarn> {
  const { config, rules } = options;
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? createMetrics();
  if (!options.state || !options.store) fs.mkdirSync(config.dataDir, { recursive: true });
  // FOREWARN_STORE=influx: a wrong or unreachable server stops the start, naming the setting
  if (!options.store && config.influx) await checkInfluxServer(config.influx);

  const state = options.state ?? createSqliteStateStore({ path: path.join(config.dataDir, 'state.db') });
  const influx: InfluxStore | undefined =
    !options.store && config.influx
      ? createInfluxStore({
          ...config.influx,
          listWindowMs: config.retentionMs,
          listFutureMs: Math.max(86_400_000, config.maxFutureMs + 60_000),
        })
      : undefined;
  const store =
    options.store ??
    influx ??
    createEmbeddedStore({
      path: path.join(config.dataDir, 'timeseries.db'),
      synchronous: config.sqliteSync,
      retentionMs: config.retentionMs,
    });
  const sink = options.sink ?? (influx ? createInfluxOutputSink({ writer: influx.writer }) : noopOutputSink);
  seedAccounts(rules, state, clock.nowMs());

  const notifier =
    options.notifier ??
    (config.smtpUrl
      ? createSmtpNotifier({ url: config.smtpUrl, from: config.mailFrom, pool: true })
      : createEmlFileNotifier({ dir: path.join(config.dataDir, 'outbox'), from: config.mailFrom }));

  // assigned once below: the outbox (built first) reports latencies through the advisor
  // eslint-disable-next-line prefer-const
  let advisor: Advisor | undefined;
  const outbox = createOutbox({
    store: state,
    notifier,
    clock,
    metrics,
    from: config.mailFrom,
    onSent: (a, handedOffAtWallMs) => {
      const arrival = advisor?.arrivalOf(a.signalId);
      if (arrival !== undefined) metrics.pointToHandoff.observe(Math.max(0, handedOffAtWallMs - arrival) / 1000);
    },
  });

  const scorer = createScorer({
    watches: watchesOf(rules),
    defaultFactory: detectorFactoryFor('combined', 'both'),
    defaultFactoryAt: (utcOffsetMinutes) => detectorFactoryFor('combined', 'both', { seasonal: { utcOffsetMinutes } }),
    loadSnapshot: (key) => state.loadCheckpoint(key),
    // asked once per new series: the account's time zone decides its time of day and weekends
    utcOffsetOf: (account) => {
      const tz = state.getAccount(account)?.timezone;
      return tz ? utcOffsetMinutes(tz, clock.nowMs()) : 0;
    },
  });
  const healthWeights = createHealthWeights(rules.rules.rules);
  const healthOf = (account: string, tier: string, nowMs: number) => {
    const h = accountHealth(scorer.health(account), healthWeights, tier, nowMs);
    return { score: h.score, top: healthTopLine(h) };
  };
  advisor = createAdvisor({ rules, state, clock, metrics, publicUrl: config.publicUrl, onEnqueued: () => outbox.kick(), sink, healthOf });
  // data gaps: accounts silent in event time (fleet clock), the whole fleet silent in wall time
  const gaps = createGapTracker();
  const gapReporter = createDataGapReporter({
    state,
    routing: rules.routing,
    clock,
    tierOf: (account) => {
      const a = state.getAccount(account);
      return a ? advisor.tierOf(a) : rules.tiers.tiers[0]!;
    },
    onEnqueued: () => outbox.kick(),
  });
  let lastArrivalWallMs: number | undefined;
  let fleetSilent = false;
  const afterBatch = (points: readonly { account: string; tsMs: number }[], arrivalWallMs: number) => {
    lastArrivalWallMs = arrivalWallMs;
    if (fleetSilent) {
      fleetSilent = false;
      gapReporter.fleet(false, arrivalWallMs);
    }
    for (const p of points) gaps.observe(p.account, p.tsMs);
    for (const t of gaps.check()) gapReporter.report(t);
  };
  const checkFleetSilence = (): boolean => {
    const silent = fleetSilence(lastArrivalWallMs, clock.nowMs(), FLEET_SILENCE_MS);
    if (silent && !fleetSilent && lastArrivalWallMs !== undefined) gapReporter.fleet(true, lastArrivalWallMs);
    fleetSilent = silent || fleetSilent;
    return silent;
  };
  const ingest = await createIngestService({
    afterBatch,
    store,
    state,
    scorer,
    advisor,
    clock,
    metrics,
    maxFutureMs: config.maxFutureMs,
    maxSeriesPerAccount: config.maxSeriesPerAccount,
    strictAccounts: config.strictAccounts,
    sink,
  });
  const sources = createSourceScheduler({
    sources: rules.sources,
    ingest,
    state,
    clock,
    metrics,
    ...(options.sourceEnv ? { env: options.sourceEnv } : {}),
  });
  let reportedWriteFailures = 0;
  const app = createApi({
    healthWeights,
    sources,
    config,
    rules,
    state,
    store,
    ingest,
    scorer,
    advisor,
    clock,
    metrics,
    health: () => ({ series: scorer.stats().series, store: influx ? 'influx' : 'embedded', notifier: notifier.name }),
    onScrape: () => {
      if (!influx) return;
      const s = influx.stats();
      metrics.spoolBytes.set(s.pendingBytes);
      // the writer counts failures itself; the counter follows it
      if (s.failedRequests > reportedWriteFailures) metrics.serverWriteFailures.inc(s.failedRequests - reportedWriteFailures);
      reportedWriteFailures = s.failedRequests;
    },
  });

  const tiers = new Map<string, TierSpec>(rules.tiers.tiers.map((t) => [t.name, t]));
  let lastSweep = clock.nowMs();
  const sweepTickets = (): number => {
    const now = clock.nowMs();
    // no limit: every unresolved ticket is checked, however many there are
    const open = [...state.listTickets({ state: 'open' }), ...state.listTickets({ state: 'acknowledged' })];
    const { breaches, escalations } = sweepSlos(open, tiers, lastSweep, now);
    lastSweep = now;
    for (const b of breaches) metrics.ticketSloBreaches.inc({ tier: b.ticket.tier, clock: b.clock });
    if (escalations.length > 0) {
      state.transaction(() => {
        for (const e of escalations) {
          const t = state.getTicket(e.ticket.id);
          if (!t || t.escalationLevel >= e.level) continue;
          state.saveTicket({ ...t, escalationLevel: e.level });
          state.enqueueAdvisory(escalationAdvisory(t, e.level, e.notify, now));
        }
      });
      outbox.kick();
    }
    return breaches.length;
  };

  const checkpoint = () => {
    const entries = [...scorer.dirtySnapshots(), ...advisor.dirtySnapshots()];
    if (entries.length === 0) return;
    state.transaction(() => {
      for (const [k, v] of entries) state.saveCheckpoint(k, v);
    });
  };

  const timers: NodeJS.Timeout[] = [];
  let closed = false;
  return {
    app,
    config,
    rules,
    state,
    store,
    sink,
    scorer,
    advisor,
    ingest,
    sources,
    outbox,
    notifier,
    metrics,
    checkpoint,
    sweepTickets,
    checkFleetSilence,
    start() {
      outbox.start(1000);
      sources.start();
      timers.push(setInterval(checkpoint, 10_000).unref());
      timers.push(setInterval(sweepTickets, 30_000).unref());
      timers.push(setInterval(checkFleetSilence, 60_000).unref());
      timers.push(
        setInterval(() => {
          store.deleteBefore(clock.nowMs() - config.retentionMs).catch((err: unknown) => console.error('forewarn: retention failed:', err));
        }, 3_600_000).unref(),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      // started last, stopped first: no pull writes into a closing pipeline
      await sources.stop();
      for (const t of timers) clearInterval(t);
      await outbox.stop();
      checkpoint();
      await notifier.close();
      await sink.close();
      await store.close();
      state.close();
    },
  };
}
