/**
 * The Grafana dashboards of dashboards/, checked two ways.
 *
 * JSON: every file parses, has a schemaVersion and a unique uid; panel ids are unique (rows'
 * nested panels included); every datasource reference resolves to the provisioned datasource;
 * every template variable a query uses is defined; dashboard links name existing dashboards; the
 * provisioning files point Grafana at this folder.
 *
 * Data: a real VictoriaMetrics on loopback; the demo fleet (12 accounts, 9 days) goes through the
 * real pipeline over HTTP with FOREWARN_STORE=influx writing to it, in event time (an injected
 * clock follows the data, 30 s behind like a live sender), with a real SMTP server on loopback
 * that defers some messages (so retries and send failures happen); Forewarn's /metrics is pushed
 * to VictoriaMetrics every simulated hour, the way the compose stack scrapes it. At the end a real
 * SQL pull source reads the compose stack's sample table (deploy/postgres/init.sql, loaded into a
 * scratch database of the loopback PostgreSQL) with the stack's own deploy/forewarn/sources.yaml,
 * at the real time. Then every panel
 * query and every annotation query of every dashboard, with its variables substituted, is run
 * through /api/v1/query_range over the data's time range and must return data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createForewarn, type Forewarn } from '../../src/app.ts';
import { loadRules } from '../../src/config/load-rules.ts';
import { loadServerConfig } from '../../src/config/server-config.ts';
import { accountBody, generateFleet, type Fleet } from '../../src/demo/fleet.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { connectTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../support/victoria-metrics.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DASHBOARDS_DIR = path.join(ROOT, 'dashboards');
const HOUR = 3_600_000;

// ------------------------------------------------------------------------------------------------
// the dashboards as files

interface DatasourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId: string;
  expr?: string;
  datasource?: DatasourceRef;
  instant?: boolean;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DatasourceRef;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Annotation {
  name: string;
  datasource?: DatasourceRef;
  expr?: string;
  step?: string;
  enable?: boolean;
}
interface Variable {
  name: string;
  type: string;
  datasource?: DatasourceRef;
  query?: string | { query?: string };
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion?: number;
  panels: Panel[];
  annotations?: { list: Annotation[] };
  templating?: { list: Variable[] };
}

const files = fs
  .readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const texts = new Map(files.map((f) => [f, fs.readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8')]));

function load(file: string): Dashboard {
  return JSON.parse(texts.get(file)!) as Dashboard;
}

/** Every panel, the panels nested in (collapsed) rows included. */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every `datasource` value anywhere in the JSON, with where it was found. */
function datasourceRefs(node: unknown, where = '$'): Array<[string, unknown]> {
  if (Array.isArray(node)) return node.flatMap((v, i) => datasourceRefs(v, `${where}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'datasource' ? [[`${where}.${k}`, v] as [string, unknown]] : datasourceRefs(v, `${where}.${k}`),
  );
}

const BUILT_INS = new Set([
  '__interval',
  '__interval_ms',
  '__rate_interval',
  '__range',
  '__range_s',
  '__range_ms',
  '__from',
  '__to',
  '__dashboard',
  '__org',
  '__user',
  '__name',
  '__value',
  '__url_time_range',
  '__field',
  '__series',
  '__data',
  '__all_variables',
  '__timezone',
]);

/** Variable names a query uses: `$name`, `${name}`, `${name:format}`, `[[name]]`. */
function variablesUsed(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\$(?:\{([A-Za-z0-9_]+)(?::[^}]*)?\}|([A-Za-z0-9_]+))|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/g))
    names.add((m[1] ?? m[2] ?? m[3])!);
  return [...names];
}

function variableQuery(v: Variable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? '');
}

interface Query {
  dashboard: string;
  what: string;
  expr: string;
  /** annotation step, if it sets one */
  step?: string;
}

/** Every PromQL query of a dashboard: panel targets and annotation queries. */
function queriesOf(d: Dashboard): Query[] {
  const out: Query[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? [])
      if (t.expr !== undefined) out.push({ dashboard: d.uid, what: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  }
  for (const a of d.annotations?.list ?? []) {
    if (a.expr !== undefined)
      out.push({ dashboard: d.uid, what: `annotation "${a.name}"`, expr: a.expr, ...(a.step ? { step: a.step } : {}) });
  }
  return out;
}

const provisionedDatasources = (
  parse(fs.readFileSync(path.join(DASHBOARDS_DIR, 'provisioning/datasources/victoriametrics.yaml'), 'utf8')) as {
    datasources: Array<{ uid: string; type: string; url: string }>;
  }
).datasources;

describe('dashboards (JSON)', () => {
  it('has the fleet, account and pipeline dashboards, one uid per file', () => {
    const uids = files.map((f) => load(f).uid);
    expect(uids).toEqual(expect.arrayContaining(['forewarn-fleet', 'forewarn-account', 'forewarn-pipeline']));
    expect(new Set(uids).size).toBe(uids.length);
    for (const f of files) expect(`${load(f).uid}.json`).toBe(f);
  });

  it.each(files)('%s parses and sets schemaVersion, title and panels', (file) => {
    const d = load(file);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.title).toMatch(/\S/);
    expect(allPanels(d).length).toBeGreaterThan(3);
  });

  it.each(files)('%s: panel ids are unique, rows and their nested panels included', (file) => {
    const ids = allPanels(load(file)).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(dupes).toEqual([]);
  });

  it.each(files)('%s: panels fit the 24-column grid and every non-row panel has a query', (file) => {
    for (const p of allPanels(load(file))) {
      expect(p.gridPos, `panel ${p.id}`).toBeDefined();
      expect(p.gridPos!.x + p.gridPos!.w, `panel ${p.id} "${p.title}"`).toBeLessThanOrEqual(24);
      if (p.type !== 'row')
        expect((p.targets ?? []).filter((t) => t.expr && t.expr.trim() !== '').length, `panel ${p.id} "${p.title}"`).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s: every datasource reference resolves to the provisioned datasource', (file) => {
    const refs = datasourceRefs(load(file));
    expect(refs.length).toBeGreaterThan(0);
    for (const [where, ref] of refs) {
      const r = ref as DatasourceRef | string | null;
      const found = typeof r === 'object' && r !== null && provisionedDatasources.some((ds) => ds.uid === r.uid && ds.type === r.type);
      expect(
        found,
        `${file} ${where}: ${JSON.stringify(ref)} is not a provisioned datasource (uid ${provisionedDatasources.map((d) => d.uid).join(', ')})`,
      ).toBe(true);
    }
    // a panel or target without a datasource would fall back to whatever the default is
    for (const p of allPanels(load(file)).filter((x) => x.type !== 'row')) {
      expect(p.datasource, `panel ${p.id} "${p.title}" has no datasource`).toBeDefined();
    }
  });

  it.each(files)('%s: every variable a query uses is defined', (file) => {
    const d = load(file);
    const defined = new Set((d.templating?.list ?? []).map((v) => v.name));
    const exprs = [...queriesOf(d).map((q) => q.expr), ...(d.templating?.list ?? []).map(variableQuery)];
    for (const expr of exprs) {
      for (const name of variablesUsed(expr))
        expect(BUILT_INS.has(name) || defined.has(name), `${file}: "${expr}" uses undefined variable $${name}`).toBe(true);
    }
  });

  it('the account drill-down has an `account` variable from label_values(forewarn_health_score, account)', () => {
    const v = load('forewarn-account.json').templating?.list.find((x) => x.name === 'account');
    expect(v?.type).toBe('query');
    expect(variableQuery(v!).replace(/\s+/g, '')).toBe('label_values(forewarn_health_score,account)');
    // every panel query of the drill-down is about the chosen account
    for (const q of queriesOf(load('forewarn-account.json'))) expect(q.expr, q.what).toContain('account="$account"');
  });

  it('the account drill-down annotates signals and advisories', () => {
    const list = load('forewarn-account.json').annotations?.list ?? [];
    expect(list.find((a) => a.expr?.includes('forewarn_signal_open'))?.enable).toBe(true);
    expect(list.find((a) => a.expr?.includes('forewarn_advisory_sent'))?.enable).toBe(true);
  });

  it('links between dashboards name existing dashboards', () => {
    const uids = new Set(files.map((f) => load(f).uid));
    for (const f of files) {
      for (const m of texts.get(f)!.matchAll(/\/d\/([A-Za-z0-9_-]+)/g)) expect(uids.has(m[1]!), `${f} links to /d/${m[1]}`).toBe(true);
    }
  });

  it('the provisioning files point Grafana at this folder and at a provisioned datasource', () => {
    const provider = parse(fs.readFileSync(path.join(DASHBOARDS_DIR, 'provisioning/dashboards/forewarn.yaml'), 'utf8')) as {
      apiVersion: number;
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers.length).toBeGreaterThan(0);
    // the container path is the one docker-compose.yml binds ./dashboards to
    const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { grafana: { volumes: string[] } };
    };
    const binds = new Map(compose.services.grafana.volumes.map((v) => [v.split(':')[1]!, path.resolve(ROOT, v.split(':')[0]!)]));
    for (const p of provider.providers) {
      expect(p.type).toBe('file');
      expect(binds.get(p.options.path)).toBe(DASHBOARDS_DIR);
    }
    expect(provisionedDatasources).toEqual([expect.objectContaining({ uid: 'victoriametrics', type: 'prometheus' })]);
  });
});

// ------------------------------------------------------------------------------------------------
// every query against the demo fleet in a real VictoriaMetrics

const ACCOUNTS = 12;
const DAYS = 9;
/** how far behind its event time each hour of data arrives */
const ARRIVAL_DELAY_MS = 30_000;
/** the simulated scrape interval of /metrics: once per hour of data */
const SCRAPE_MS = HOUR;
/** query_range step, and Grafana's $__interval for it */
const STEP_MS = HOUR;

/** Grafana's `$__rate_interval`: max($__interval + scrape interval, 4 x scrape interval). */
const RATE_INTERVAL_MS = Math.max(STEP_MS + SCRAPE_MS, 4 * SCRAPE_MS);

function promDuration(ms: number): string {
  return ms % HOUR === 0 ? `${ms / HOUR}h` : `${Math.round(ms / 1000)}s`;
}

/** Substitutes template and built-in variables the way Grafana would for this range and step. */
function substitute(expr: string, vars: Record<string, string>, rangeMs: number): string {
  const values: Record<string, string> = {
    ...vars,
    __interval: promDuration(STEP_MS),
    __interval_ms: String(STEP_MS),
    __rate_interval: promDuration(RATE_INTERVAL_MS),
    __range: promDuration(Math.ceil(rangeMs / HOUR) * HOUR),
    __range_s: String(Math.round(rangeMs / 1000)),
    __range_ms: String(rangeMs),
  };
  const out = expr.replace(
    /\$(?:\{([A-Za-z0-9_]+)(?::[^}]*)?\}|([A-Za-z0-9_]+))|\[\[([A-Za-z0-9_]+)\]\]/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c)!;
      const v = values[name];
      if (v === undefined) throw new Error(`no value for variable $${name} in "${expr}"`);
      return v;
    },
  );
  return out;
}

interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

function startSmtp(received: string[]): Promise<{ server: SMTPServer; port: number }> {
  let messages = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages += 1;
        // every fourth message is deferred once, like a busy mail server: the outbox retries it
        if (messages % 4 === 1) {
          const err = new Error('4.3.2 try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          callback(err);
          return;
        }
        received.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as AddressInfo).port })),
  );
}

/** Loads deploy/postgres/init.sql into a scratch database; returns its URL and how to drop it. */
async function sampleDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin: TestPostgres = await connectTestPostgres();
  const name = `forewarn_dash_${process.pid}`;
  await admin.client.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.client.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin.url);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    await db.query(fs.readFileSync(path.join(ROOT, 'deploy/postgres/init.sql'), 'utf8'));
    // one row a source must reject (and count) without stopping
    await db.query(`INSERT INTO usage_events (account, metric, ts, value) VALUES ('not a valid account!', 'app_active_users', now(), 1)`);
  } finally {
    await db.end();
  }
  return {
    url: url.toString(),
    async drop() {
      await admin.client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.close();
    },
  };
}

const dashboards = files.map(load);
const allQueries = dashboards.flatMap(queriesOf);

describe('dashboards (every query returns data from the demo fleet in a real VictoriaMetrics)', () => {
  let vm: VictoriaMetrics;
  let smtp: { server: SMTPServer; port: number };
  let dataDir: string;
  let sampleDb: { url: string; drop(): Promise<void> } | undefined;
  let fw: Forewarn | undefined;
  let fleet: Fleet;
  let account = '';
  let startMs = 0;
  let endMs = 0;
  /** end of the replay in event time (before the present-time pulls) */
  let replayEndMs = 0;
  const received: string[] = [];
  const loadStats = { points: 0, requests: 0, seconds: 0, sendFailures: 0, rejected: 0, pulled: 0, pullRejected: 0 };

  const pushMetrics = async (atMs: number) => {
    // the text of /metrics, stamped with the (simulated) scrape time
    const text = await fw!.metrics.registry.metrics();
    const body = text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => `${l} ${atMs}`)
      .join('\n');
    const res = await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: `${body}\n` });
    if (res.status !== 204) throw new Error(`import of /metrics into victoria-metrics failed: ${res.status} ${await res.text()}`);
  };

  const queryRange = async (expr: string, step: string, untilMs = endMs): Promise<PromSeries[]> => {
    const u = new URL(`${vm.url}/api/v1/query_range`);
    u.searchParams.set('query', expr);
    u.searchParams.set('start', String(Math.floor(startMs / 1000)));
    u.searchParams.set('end', String(Math.ceil(untilMs / 1000)));
    u.searchParams.set('step', step);
    u.searchParams.set('nocache', '1');
    const res = await fetch(u);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSeries[] } };
    if (!res.ok || body.status !== 'success') throw new Error(`query_range failed for "${expr}": ${res.status} ${body.error ?? ''}`);
    return body.data!.result;
  };

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
    smtp = await startSmtp(received);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-dash-'));
    // at least two days of room before the real now (VictoriaMetrics refuses samples far in the
    // future), and whole weeks since the epoch so every run generates the same data
    const WEEK = 7 * 24 * HOUR;
    fleet = generateFleet({ accounts: ACCOUNTS, days: DAYS, seed: 7, endMs: Math.floor((Date.now() - 2 * 24 * HOUR) / WEEK) * WEEK });
    const clock = new ManualClock(fleet.startMs);
    const config = {
      ...loadServerConfig({
        FOREWARN_DATA_DIR: dataDir,
        FOREWARN_STORE: 'influx',
        INFLUX_URL: vm.url,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        PORT: '0',
        FOREWARN_SQLITE_SYNC: 'normal',
      }),
      retentionMs: 3650 * 24 * HOUR,
    };
    // the repository's rules with the compose stack's pull source on the sample table
    const rulesDir = path.join(dataDir, 'rules');
    fs.cpSync(path.join(ROOT, 'rules'), rulesDir, { recursive: true });
    // the pull source of the compose stack (docker-compose.yml mounts it over rules/sources.yaml)
    fs.copyFileSync(path.join(ROOT, 'deploy/forewarn/sources.yaml'), path.join(rulesDir, 'sources.yaml'));
    sampleDb = await sampleDatabase();
    const rules = loadRules(rulesDir);
    fw = await createForewarn({ config, rules, clock, metrics: createMetrics(), sourceEnv: { FOREWARN_USAGE_DB_URL: sampleDb.url } });
    const app = fw.app;

    for (const a of fleet.accounts) {
      const res = await app.request(`/api/accounts/${a.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(accountBody(a)),
      });
      if (!res.ok) throw new Error(`registering account ${a.id} failed: ${res.status} ${await res.text()}`);
    }

    const started = performance.now();
    const ticksPerRequest = SCRAPE_MS / fleet.stepMs;
    for (let tick = 0; tick < fleet.ticks; tick += ticksPerRequest) {
      const last = Math.min(fleet.ticks, tick + ticksPerRequest);
      let body = '';
      for (let t = tick; t < last; t++) body += fleet.linesAt(t);
      clock.set(fleet.startMs + (last - 1) * fleet.stepMs + ARRIVAL_DELAY_MS);
      // one request with bad lines on the first day: the rejects panel must show them by reason
      if (tick === 24 * ticksPerRequest) {
        body += `this is not line protocol\napi,account=${fleet.accounts[0]!.id} requests=5i ${Math.floor((clock.nowMs() + 24 * HOUR) / 1000)}\n`;
      }
      const res = await app.request('/api/v2/write?precision=s', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      if (res.status === 400) loadStats.rejected += ((await res.json()) as { detail: { rejected: unknown[] } }).detail.rejected.length;
      else if (res.status !== 204) throw new Error(`write at tick ${tick} failed: ${res.status} ${await res.text()}`);
      loadStats.requests += 1;
      loadStats.points += (last - tick) * fleet.accounts.length * 6;
      const drained = await fw.outbox.drainOnce();
      loadStats.sendFailures += drained.retried + drained.failed;
      fw.sweepTickets();
      await pushMetrics(clock.nowMs());
    }
    // six more hours without data: retries go out, SLO clocks of unacknowledged tickets run out
    for (let h = 0; h < 6; h++) {
      clock.advance(HOUR);
      const drained = await fw.outbox.drainOnce();
      loadStats.sendFailures += drained.retried + drained.failed;
      fw.sweepTickets();
      await pushMetrics(clock.nowMs());
    }
    replayEndMs = clock.nowMs();
    // then the present: the SQL source pulls the sample table (its rows are from the last two
    // days of real time) three times, 20 minutes apart, as the compose stack would
    clock.set(Date.now());
    for (let i = 0; i < 3; i++) {
      const pulled = await fw.sources.runNow('product-usage');
      if (!pulled.ok) throw new Error(`the sql source failed on the sample table: ${pulled.error}`);
      loadStats.pulled += pulled.accepted;
      loadStats.pullRejected += pulled.rejected;
      await fw.outbox.drainOnce();
      fw.sweepTickets();
      await pushMetrics(clock.nowMs());
      clock.advance(20 * 60_000);
    }
    // keep scraping for two more hours, as Prometheus would: a rate needs two samples inside its
    // window at every step of the range, whatever the alignment of the steps to the pulls
    for (let i = 0; i < 6; i++) {
      await pushMetrics(clock.nowMs());
      clock.advance(20 * 60_000);
    }
    loadStats.seconds = (performance.now() - started) / 1000;
    startMs = fleet.startMs;
    endMs = clock.nowMs();

    // the account for $account: one with an injected incident that Forewarn caught and advised on
    const advisories = fw.state.listAdvisories({ limit: 100_000 }).filter((a) => a.status === 'sent');
    const signals = fw.state.listSignals({ limit: 100_000 });
    account =
      fleet.incidents
        .map((i) => i.account)
        .find((id) => signals.some((s) => s.account === id) && advisories.some((a) => a.account === id)) ?? '';
    await fw.close();
    fw = undefined;
    await vm.flush();

    // points are queryable about a second after the write: wait, bounded, for the last of them
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await queryRange(`count(forewarn_health_score) and count(usage_api_requests) and count(forewarn_outbox_depth)`, '1h');
      if (ready.length > 0 && ready[0]!.values.length > DAYS * 20) break;
      if (Date.now() > deadline) throw new Error('victoria-metrics did not answer with the loaded data within 20 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(
      `dashboards test: loaded ${loadStats.points} points in ${loadStats.requests} requests in ${loadStats.seconds.toFixed(1)} s; ` +
        `${received.length} emails delivered, ${loadStats.sendFailures} send failures, ${loadStats.rejected} rejected lines; ` +
        `${loadStats.pulled} points pulled from sql (${loadStats.pullRejected} rejected); account=${account}`,
    );
  }, 240_000);

  afterAll(async () => {
    await fw?.close();
    await vm?.destroy();
    await sampleDb?.drop();
    await new Promise<void>((resolve) => (smtp ? smtp.server.close(() => resolve()) : resolve()));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the load produced what the dashboards show: emails, deferred sends, rejected lines, pulled rows, a caught incident', () => {
    expect(received.length).toBeGreaterThan(0);
    expect(loadStats.sendFailures).toBeGreaterThan(0);
    expect(loadStats.rejected).toBe(2);
    // 6 accounts x 2 metrics x 49 hours in init.sql, and the one bad row
    expect(loadStats.pulled).toBe(588);
    expect(loadStats.pullRejected).toBe(1);
    expect(account, 'no account with an incident, a signal and a sent advisory').not.toBe('');
  });

  /** The values of a `label_values(selector, label)` variable query, as Grafana would list them. */
  const labelValues = async (query: string): Promise<string[]> => {
    const m = /^label_values\(\s*(?:(.+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query.trim());
    if (!m) throw new Error(`not a label_values(...) query: ${query}`);
    const u = new URL(`${vm.url}/api/v1/label/${m[2]}/values`);
    if (m[1]) u.searchParams.set('match[]', m[1]);
    u.searchParams.set('start', String(Math.floor(startMs / 1000)));
    u.searchParams.set('end', String(Math.ceil(endMs / 1000)));
    const body = (await (await fetch(u)).json()) as { data: string[] };
    return body.data;
  };

  /**
   * The values each template variable of a dashboard takes: `account` is the chosen account (it
   * must be among the values of its query); the others every value of their query, the earlier
   * variables substituted in it (a repeated panel is drawn once per value).
   */
  const variableValues = async (d: Dashboard): Promise<Map<string, string[]>> => {
    const values = new Map<string, string[]>();
    for (const v of d.templating?.list ?? []) {
      const first = Object.fromEntries([...values].map(([k, vs]) => [k, vs[0]!]));
      const listed = await labelValues(substitute(variableQuery(v), first, endMs - startMs));
      expect(listed.length, `variable ${v.name} of ${d.uid} lists nothing`).toBeGreaterThan(0);
      if (v.name === 'account') {
        expect(listed).toContain(account);
        values.set(v.name, [account]);
      } else values.set(v.name, listed);
    }
    return values;
  };

  it('the variables list the fleet and the series of the chosen account', async () => {
    const d = dashboards.find((x) => x.uid === 'forewarn-account')!;
    const accounts = await labelValues(variableQuery(d.templating!.list.find((x) => x.name === 'account')!));
    expect(accounts).toEqual(expect.arrayContaining(fleet.accounts.map((a) => a.id)));
    const values = await variableValues(d);
    // every series the account's rules and default watches score
    expect([...values.get('series')!].sort()).toEqual(
      ['api_errors/api_requests', 'api_latency_p95_ms', 'api_requests', 'auth_failures', 'integration_failures', 'quota_used_ratio'].sort(),
    );
  });

  it.each(allQueries.map((q) => [q.dashboard, q.what, q] as const))('%s %s returns data', async (_dashboard, _what, q) => {
    const values = await variableValues(dashboards.find((d) => d.uid === q.dashboard)!);
    // every combination of the values of the variables the query uses
    let combos: Array<Record<string, string>> = [{}];
    for (const name of variablesUsed(q.expr)) {
      const vs = values.get(name);
      if (vs) combos = combos.flatMap((c) => vs.map((v) => ({ ...c, [name]: v })));
    }
    for (const combo of combos) {
      const expr = substitute(q.expr, combo, endMs - startMs);
      const series = await queryRange(expr, q.step ?? promDuration(STEP_MS));
      const withData = series.filter((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
      expect(withData.length, `no data for ${expr}`).toBeGreaterThan(0);
    }
  });

  it('the detector lag panel shows how far behind the replayed data arrived (30 s)', async () => {
    const series = await queryRange('max(forewarn_detector_lag_seconds)', '1h', replayEndMs);
    const values = series.flatMap((s) => s.values.map(([, v]) => Number(v)));
    expect(values.length).toBeGreaterThan(DAYS * 20);
    expect(Math.max(...values)).toBeCloseTo(ARRIVAL_DELAY_MS / 1000, 3);
  });

  it('the rejects panel breaks the bad lines and the bad pulled row down by reason', async () => {
    const series = await queryRange(
      `sum by (reason) (increase(forewarn_points_rejected_total[${promDuration(endMs - startMs + HOUR)}]))`,
      '1h',
    );
    expect(series.map((s) => s.metric.reason).sort()).toEqual(['future_timestamp', 'invalid_account', 'syntax']);
  });

  it('the at-risk table lists the incident account at some time', async () => {
    const panel = allPanels(dashboards.find((d) => d.uid === 'forewarn-fleet')!).find((p) => p.title === 'Accounts at risk (health < 60)');
    expect(panel?.targets?.[0]?.expr).toBeDefined();
    const series = await queryRange(substitute(panel!.targets![0]!.expr!, {}, endMs - startMs), '1h');
    expect(series.map((s) => s.metric.account)).toContain(account);
  });
});
