/**
 * The HTTP API (Hono). Routes call into the pipeline stages; auth, error mapping and
 * serialisation live here and nowhere else. Tests call `app.request()` without a server.
 */
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import type { RulesBundle } from '../config/types.ts';
import type { Role, ServerConfig } from '../config/server-config.ts';
import type { Clock } from '../domain/clock.ts';
import {
  ADVISORY_KINDS,
  CRITICALITIES,
  type AccountRecord,
  type Signal,
  type AdvisoryKind,
  type SignalState,
  type TicketState,
} from '../domain/types.ts';
import type { Advisor } from '../advise/advisor.ts';
import { accountHealth, createHealthWeights, healthTopLine, type HealthWeights } from '../detect/account-health.ts';
import type { Scorer } from '../detect/scorer.ts';
import type { IngestResult, IngestService } from '../ingest/ingest-service.ts';
import { parseJsonTelemetry } from '../ingest/json-telemetry.ts';
import { isPrecision, parseLineProtocol } from '../ingest/line-protocol.ts';
import type { StateStore } from '../store/state-store.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { SourceStatusJson } from '../ingest/pull/status.ts';
import { accountRecord } from '../domain/account.ts';
import { ACCOUNT_ID_RULE, isValidAccountId } from '../domain/account-id.ts';
import { isValidTimeZone } from '../domain/timezone.ts';
import { HttpError, renderError } from './http-error.ts';
import { parseTimeParam, toApi } from './serialize.ts';
import { mountWebPage } from '../web/web-page.ts';

export interface ApiOptions {
  config: ServerConfig;
  rules: RulesBundle;
  state: StateStore;
  store: TimeSeriesStore;
  ingest: IngestService;
  scorer: Scorer;
  advisor: Advisor;
  clock: Clock;
  metrics: Metrics;
  /** extra readiness facts for /healthz */
  health?: () => Record<string, unknown>;
  /** refreshes gauges that are read from elsewhere, right before /metrics is rendered */
  onScrape?: () => void;
  /** the health weights the advisor uses (built from the rules when absent) */
  healthWeights?: HealthWeights;
  /** the pull sources, for GET /api/sources (and their lag gauges on /metrics) */
  sources?: { statusJson(): SourceStatusJson[] };
}

type Env = { Variables: { role: Role } };

const ROLE_CAN: Record<Role, ReadonlySet<'read' | 'write' | 'ingest'>> = {
  admin: new Set(['read', 'write', 'ingest']),
  ingest: new Set(['ingest']),
  read: new Set(['read']),
};

const contactSchema = z.strictObject({ name: z.string().min(1), email: z.email() });
const accountBody = z.strictObject({
  name: z.string().min(1),
  contract_value_usd: z.number().nonnegative().default(0),
  monthly_usage: z.number().nonnegative().default(0),
  criticality: z.enum(CRITICALITIES as [string, ...string[]]).default('low'),
  strategic: z.boolean().default(false),
  business_critical: z.boolean().default(false),
  tier: z.string().min(1).optional(),
  csm: contactSchema.optional(),
  technical_contacts: z.array(contactSchema).default([]),
  business_contacts: z.array(contactSchema).default([]),
  region: z.string().min(1).optional(),
  timezone: z
    .string()
    .refine(isValidTimeZone, { message: 'unknown IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)' })
    .optional(),
});

/** Builds the Hono app with every route. */
export function createApi(options: ApiOptions): Hono<Env> {
  const { config, rules, state, store, ingest, scorer, advisor, clock, metrics } = options;
  const app = new Hono<Env>();
  const tierNames = new Set(rules.tiers.tiers.map((t) => t.name));
  const healthWeights = options.healthWeights ?? createHealthWeights(rules.rules.rules);
  /** an account's health at its newest event time, weighted for its tier */
  const healthOfAccount = (a: AccountRecord, tier: string) => {
    const series = scorer.health(a.id);
    let nowMs = -Infinity;
    for (const s of series) if (s.lastMs > nowMs) nowMs = s.lastMs;
    if (!Number.isFinite(nowMs)) nowMs = clock.nowMs();
    const health = accountHealth(series, healthWeights, tier, nowMs);
    return { series, health, nowMs };
  };

  app.onError((err, c) => renderError(err, c));
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}`, detail: null }, 404));

  // auth: with no tokens configured the server listens on loopback only and everyone is admin
  const need = (what: 'read' | 'write' | 'ingest') =>
    createMiddleware<Env>(async (c, next) => {
      if (config.tokens.size === 0) {
        c.set('role', 'admin');
        return next();
      }
      const header = c.req.header('authorization') ?? '';
      const m = /^(?:Bearer|Token)\s+(.+)$/i.exec(header.trim());
      if (!m) throw new HttpError(401, 'missing bearer token', { hint: 'send Authorization: Bearer <token>' });
      const role = config.tokens.get(m[1]!.trim());
      if (!role) throw new HttpError(401, 'unknown token', null);
      if (!ROLE_CAN[role].has(what)) throw new HttpError(403, `role ${role} may not ${what}`, { role, needs: what });
      c.set('role', role);
      return next();
    });

  const limit = bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) => {
      metrics.pointsRejected.inc({ reason: 'body_too_large' });
      metrics.ingestRequests.inc({ endpoint: c.req.path === '/api/telemetry' ? 'telemetry' : 'write', code: '413' });
      throw new HttpError(413, `request body over the limit of ${config.maxBodyBytes} bytes`, { limitBytes: config.maxBodyBytes });
    },
  });

  const readBody = async (c: { req: { header(n: string): string | undefined; arrayBuffer(): Promise<ArrayBuffer> } }): Promise<string> => {
    const raw = Buffer.from(await c.req.arrayBuffer());
    const enc = (c.req.header('content-encoding') ?? '').toLowerCase().trim();
    if (enc === '' || enc === 'identity') return raw.toString('utf8');
    if (enc !== 'gzip') throw new HttpError(415, `unsupported content-encoding "${enc}" (use gzip or none)`);
    try {
      return gunzipSync(raw, { maxOutputLength: config.maxBodyBytes }).toString('utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || (err as Error).message.includes('maxOutputLength')) {
        metrics.pointsRejected.inc({ reason: 'body_too_large' });
        throw new HttpError(413, `decompressed body over the limit of ${config.maxBodyBytes} bytes`, { limitBytes: config.maxBodyBytes });
      }
      throw new HttpError(400, 'body is not valid gzip', { reason: (err as Error).message }, { cause: err });
    }
  };

  const ingestResponse = (
    c: { body(b: null, s: 204): Response; json(o: unknown, s: 400): Response },
    parseErrors: Array<{ line: number; code: string; reason: string }>,
    result: IngestResult,
  ) => {
    const rejected = [...parseErrors, ...result.rejected].sort((a, b) => a.line - b.line);
    if (rejected.length === 0) return c.body(null, 204);
    const first = rejected[0]!;
    const message = `${rejected.length} line(s) rejected, ${result.accepted} point(s) accepted; first: line ${first.line}: ${first.reason}`;
    // `code`/`message` keep InfluxDB clients (Telegraf) able to log the reason
    return c.json({ error: message, detail: { accepted: result.accepted, rejected }, code: 'invalid', message }, 400);
  };

  const observe = (endpoint: string, started: number, code: number) => {
    metrics.ingestRequests.inc({ endpoint, code: String(code) });
    metrics.ingestLatency.observe({ endpoint }, (performance.now() - started) / 1000);
  };

  // ---- ingest
  app.post('/api/v2/write', need('ingest'), limit, async (c) => {
    const started = performance.now();
    const precisionRaw = c.req.query('precision') ?? 'ns';
    if (!isPrecision(precisionRaw)) {
      observe('write', started, 400);
      throw new HttpError(400, `invalid precision "${precisionRaw}" (ns, us, ms or s)`, { parameter: 'precision' });
    }
    const body = await readBody(c);
    const parsed = parseLineProtocol(body, {
      precision: precisionRaw,
      accountTag: config.accountTag,
      defaultTimeMs: clock.nowMs(),
    });
    for (const e of parsed.errors) metrics.pointsRejected.inc({ reason: e.code });
    const result = await ingest.ingest(parsed.points, 'line_protocol', parsed.lines);
    const res = ingestResponse(c, parsed.errors, result);
    observe('write', started, res.status);
    return res;
  });

  app.post('/api/telemetry', need('ingest'), limit, async (c) => {
    const started = performance.now();
    const text = await readBody(c);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      observe('telemetry', started, 400);
      metrics.pointsRejected.inc({ reason: 'syntax' });
      throw new HttpError(400, 'body is not valid JSON', { reason: (err as Error).message });
    }
    const parsed = parseJsonTelemetry(body, { defaultTimeMs: clock.nowMs() });
    for (const e of parsed.errors) metrics.pointsRejected.inc({ reason: e.code });
    const result = await ingest.ingest(parsed.points, 'json', parsed.lines);
    const res = ingestResponse(c, parsed.errors, result);
    observe('telemetry', started, res.status);
    return res;
  });

  // ---- accounts
  /** `open`: the account's open signals when the caller already has them (the list route reads all at once) */
  const accountView = (a: AccountRecord, open = state.listSignals({ account: a.id, state: 'open' })) => {
    const tier = advisor.tierOf(a);
    const { health } = healthOfAccount(a, tier.name);
    return toApi({
      ...a,
      tier: tier.name,
      health: { score: health.score, contributors: health.contributors.slice(0, 5) },
      openSignals: open,
    });
  };

  app.put('/api/accounts/:id', need('write'), async (c) => {
    const id = c.req.param('id');
    if (!isValidAccountId(id)) throw new HttpError(400, `invalid account id "${id.slice(0, 140)}" (${ACCOUNT_ID_RULE})`);
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch (err) {
      throw new HttpError(400, 'body is not valid JSON', { reason: (err as Error).message });
    }
    const parsed = accountBody.safeParse(raw);
    if (!parsed.success) {
      throw new HttpError(400, 'invalid account', {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const b = parsed.data;
    if (b.tier !== undefined && !tierNames.has(b.tier)) {
      throw new HttpError(400, `unknown tier "${b.tier}"`, { tiers: [...tierNames] });
    }
    const now = clock.nowMs();
    const prev = state.getAccount(id);
    const record = accountRecord(
      {
        id,
        name: b.name,
        contractValueUsd: b.contract_value_usd,
        monthlyUsage: b.monthly_usage,
        criticality: b.criticality as AccountRecord['attributes']['criticality'],
        strategic: b.strategic,
        businessCritical: b.business_critical,
        technicalContacts: b.technical_contacts,
        businessContacts: b.business_contacts,
        ...(b.tier !== undefined ? { tier: b.tier } : {}),
        ...(b.csm ? { csm: b.csm } : {}),
        ...(b.region !== undefined ? { region: b.region } : {}),
        ...(b.timezone !== undefined ? { timezone: b.timezone } : {}),
      },
      prev?.createdAtMs ?? now,
      now,
    );
    state.upsertAccount(record);
    ingest.knowAccount(id);
    return c.json(accountView(record), prev ? 200 : 201);
  });

  app.get('/api/accounts', need('read'), (c) => {
    const tier = c.req.query('tier');
    // one read of every open signal, not one query per account
    const openByAccount = new Map<string, Signal[]>();
    for (const s of state.listSignals({ state: 'open' })) {
      const list = openByAccount.get(s.account);
      if (list) list.push(s);
      else openByAccount.set(s.account, [s]);
    }
    const list = state.listAccounts().map((a) => accountView(a, openByAccount.get(a.id) ?? [])) as Array<{ tier: string }>;
    return c.json(tier ? list.filter((a) => a.tier === tier) : list);
  });

  const getAccount = (id: string) => {
    const a = state.getAccount(id);
    if (!a) throw new HttpError(404, `account "${id}" not found`);
    return a;
  };

  app.get('/api/accounts/:id', need('read'), (c) => c.json(accountView(getAccount(c.req.param('id')))));

  app.get('/api/accounts/:id/health', need('read'), (c) => {
    const a = getAccount(c.req.param('id'));
    const tier = advisor.tierOf(a).name;
    const { series, health, nowMs } = healthOfAccount(a, tier);
    // weights as used, per series, so the score can be explained from the response alone
    const weighted = series.map((s) => ({ ...s, weight: healthWeights.weightOf(s.watch ?? s.series, tier) }));
    const isForecast = (s: { watch?: string }) => s.watch?.endsWith(':forecast') === true;
    const gaps = state.listSignals({ account: a.id, state: 'open' }).filter((s) => s.rule === 'data_gap');
    return c.json(
      toApi({
        account: a.id,
        tier,
        score: health.score,
        asOf: new Date(nowMs).toISOString(),
        summary: healthTopLine(health),
        contributors: health.contributors,
        series: weighted.filter((s) => !isForecast(s)),
        // limit forecasts of rules with a `limit`, one per rule
        forecasts: weighted.filter(isForecast).map((s) => ({
          rule: s.watch,
          series: s.series,
          weight: s.weight,
          score: s.score,
          limit: s.forecast?.limit,
          crossing: s.forecast && Number.isFinite(s.forecast.crossingMs) ? new Date(s.forecast.crossingMs).toISOString() : null,
        })),
        dataGap: gaps.length > 0 ? { since: new Date(gaps[0]!.onsetMs).toISOString(), signal: gaps[0]!.id } : null,
      }),
    );
  });

  app.get('/api/accounts/:id/series', need('read'), async (c) => {
    const a = getAccount(c.req.param('id'));
    const metric = c.req.query('metric');
    if (!metric) return c.json(toApi(await store.listSeries(a.id)));
    const from = time(c.req.query('from'), 'from') ?? 0;
    const to = time(c.req.query('to'), 'to') ?? Number.MAX_SAFE_INTEGER;
    const r = await store.query({ account: a.id, metric }, from, to);
    const points = Array.from(r.tsMs, (t, i) => [new Date(t).toISOString(), r.values[i]]);
    return c.json({ account: a.id, metric, points });
  });

  // ---- signals, advisories, tickets
  const limitParam = (raw: string | undefined) => {
    if (raw === undefined) return 500;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new HttpError(400, `invalid limit "${raw}" (1..10000)`, { parameter: 'limit' });
    return n;
  };
  const time = (raw: string | undefined, name: string) => {
    const t = parseTimeParam(raw);
    if (t instanceof Error) throw new HttpError(400, `invalid ${name}: ${t.message}`, { parameter: name });
    return t;
  };
  const oneOf = <T extends string>(raw: string | undefined, allowed: readonly T[], name: string): T | undefined => {
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw))
      throw new HttpError(400, `invalid ${name} "${raw}" (${allowed.join(', ')})`, { parameter: name });
    return raw as T;
  };

  app.get('/api/signals', need('read'), (c) => {
    const st = oneOf<SignalState>(c.req.query('state'), ['open', 'resolved'], 'state');
    const account = c.req.query('account');
    return c.json(
      toApi(state.listSignals({ ...(account ? { account } : {}), ...(st ? { state: st } : {}), limit: limitParam(c.req.query('limit')) })),
    );
  });

  app.get('/api/advisories', need('read'), (c) => {
    const kind = oneOf<AdvisoryKind>(c.req.query('kind'), [...ADVISORY_KINDS, 'ticket_escalation'], 'kind');
    const account = c.req.query('account');
    const since = time(c.req.query('since'), 'since');
    const list = state.listAdvisories({
      ...(account ? { account } : {}),
      ...(kind ? { kind } : {}),
      ...(since !== undefined ? { sinceWallMs: since } : {}),
      limit: limitParam(c.req.query('limit')),
    });
    return c.json(toApi(list));
  });

  app.get('/api/tickets', need('read'), (c) => {
    const st = oneOf<TicketState>(c.req.query('state'), ['open', 'acknowledged', 'resolved'], 'state');
    const account = c.req.query('account');
    return c.json(
      toApi(state.listTickets({ ...(account ? { account } : {}), ...(st ? { state: st } : {}), limit: limitParam(c.req.query('limit')) })),
    );
  });

  const ticketAction = (to: 'acknowledged' | 'resolved') => (c: { req: { param(n: 'id'): string }; json(o: unknown): Response }) => {
    const id = c.req.param('id');
    const t = state.getTicket(id);
    if (!t) throw new HttpError(404, `ticket "${id}" not found`);
    if (t.state === 'resolved') throw new HttpError(409, `ticket "${id}" is already resolved`);
    if (to === 'acknowledged' && t.state === 'acknowledged') throw new HttpError(409, `ticket "${id}" is already acknowledged`);
    const now = clock.nowMs();
    const next = { ...t, state: to };
    if (to === 'acknowledged' || next.ackedAtWallMs === undefined) next.ackedAtWallMs = now;
    if (to === 'resolved') next.resolvedAtWallMs = now;
    state.saveTicket(next);
    return c.json(toApi(next));
  };
  app.post('/api/tickets/:id/ack', need('write'), ticketAction('acknowledged'));
  app.post('/api/tickets/:id/resolve', need('write'), ticketAction('resolved'));

  // ---- pull sources
  app.get('/api/sources', need('read'), (c) => c.json(options.sources?.statusJson() ?? []));

  // ---- operations
  app.get('/healthz', (c) =>
    c.json({ status: 'ok', time: new Date(clock.nowMs()).toISOString(), outboxDepth: state.outboxDepth(), ...(options.health?.() ?? {}) }),
  );
  app.get('/metrics', async (c) => {
    metrics.outboxDepth.set(state.outboxDepth());
    options.onScrape?.();
    options.sources?.statusJson(); // refreshes the forewarn_source_lag_seconds gauges
    return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });

  // ---- the CSM web page (GET /, /accounts/:id, /web/*): static files, no data, no token
  mountWebPage(app);

  return app;
}
