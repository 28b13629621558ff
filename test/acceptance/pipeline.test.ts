/**
 * The whole pipeline on loopback: a real SMTP server (smtp-server), the real HTTP server on a
 * free port, the embedded stores in a temp folder. Accounts of three tiers are registered, a week
 * of telemetry plus a latency incident is written through /api/v2/write, and we check which
 * emails arrive, to whom, with what content, exactly once (also across a restart), and which
 * tickets are opened with which priority, queue and due times.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForewarn, type Forewarn } from '../../src/app.ts';
import { loadRules } from '../../src/config/load-rules.ts';
import { loadServerConfig } from '../../src/config/server-config.ts';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

const HOUR = 3_600_000;
const STEP = 5 * 60_000;
const TOKENS = { admin: 'admin-token-1234', ingest: 'ingest-token-1234', read: 'read-token-12345' };

function startSmtp(received: Received[]): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as AddressInfo).port })),
  );
}

/** Undoes quoted-printable soft breaks and =XX escapes enough to search the text. */
function decodeQp(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function header(raw: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'mi').exec(raw);
  return m ? m[1]!.replace(/\r?\n[ \t]/g, ' ').trim() : '';
}

/** Latency of a healthy account: daily seasonality (busy afternoons) with a little noise. */
function latency(tsMs: number, base: number, i: number): number {
  const hour = (tsMs / HOUR) % 24;
  const daily = 1 + 0.3 * Math.exp(-((hour - 14) ** 2) / 18);
  const noise = 1 + 0.03 * Math.sin(i * 12.9898) * Math.cos(i * 78.233);
  return base * daily * noise;
}

describe('pipeline end to end (HTTP + SMTP on loopback)', () => {
  const received: Received[] = [];
  let smtp: { server: SMTPServer; port: number };
  let dataDir: string;
  let fw: Forewarn;
  let server: ServerType;
  let base: string;
  const rules = loadRules(path.resolve('rules'));
  // the incident: p95 latency of two accounts climbs to 4x; the third account stays healthy
  const endMs = Math.floor((Date.now() - HOUR) / STEP) * STEP;
  const startMs = endMs - 8 * 24 * HOUR;
  const incidentStart = endMs - 14 * HOUR;
  const incidentEnd = endMs - 6 * HOUR;

  const config = () =>
    loadServerConfig({
      FOREWARN_DATA_DIR: dataDir,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      FOREWARN_TOKENS: `admin:${TOKENS.admin},ingest:${TOKENS.ingest},read:${TOKENS.read}`,
      FOREWARN_HOST: '127.0.0.1',
      PORT: '0',
      FOREWARN_MAIL_FROM: 'Forewarn <forewarn@example.test>',
    });

  const startApp = async () => {
    fw = await createForewarn({ config: config(), rules });
    fw.start();
    server = serve({ fetch: fw.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const stopApp = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fw.close();
  };
  const api = (p: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${base}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${init.token ?? TOKENS.admin}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });

  beforeAll(async () => {
    smtp = await startSmtp(received);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-e2e-'));
    await startApp();
  });

  afterAll(async () => {
    await stopApp();
    await new Promise<void>((resolve) => smtp.server.close(() => resolve()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers accounts whose tiers come from their attributes', async () => {
    const accounts = [
      {
        id: 'orbit-bank',
        name: 'Orbit Bank',
        contract_value_usd: 900_000,
        monthly_usage: 80e6,
        criticality: 'mission_critical',
        strategic: true,
        business_critical: true,
        csm: { name: 'Dana Whitfield', email: 'dana@vendor.test' },
        technical_contacts: [{ name: 'Orbit SRE', email: 'sre@orbit.test' }],
        business_contacts: [{ name: 'Orbit Ops', email: 'ops@orbit.test' }],
      },
      {
        id: 'pine-labs',
        name: 'Pine Labs',
        contract_value_usd: 40_000,
        monthly_usage: 500_000,
        criticality: 'medium',
        csm: { name: 'Luis Ortega', email: 'luis@vendor.test' },
        technical_contacts: [{ name: 'Pine Dev', email: 'dev@pine.test' }],
        business_contacts: [{ name: 'Pine Owner', email: 'owner@pine.test' }],
      },
      {
        id: 'quiet-co',
        name: 'Quiet Co',
        contract_value_usd: 2_000,
        monthly_usage: 10_000,
        criticality: 'low',
        technical_contacts: [{ name: 'Quiet', email: 'it@quiet.test' }],
      },
    ];
    for (const a of accounts) {
      const { id, ...body } = a;
      const res = await api(`/api/accounts/${id}`, { method: 'PUT', body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const list = (await (await api('/api/accounts', { token: TOKENS.read })).json()) as Array<{ id: string; tier: string }>;
    const tiers = Object.fromEntries(list.map((a) => [a.id, a.tier]));
    expect(tiers).toMatchObject({ 'orbit-bank': 'strategic', 'pine-labs': 'growth', 'quiet-co': 'self-serve' });
  });

  it('enforces roles: ingest cannot read, read cannot write, no token is 401', async () => {
    expect((await api('/api/accounts', { token: TOKENS.ingest })).status).toBe(403);
    expect((await api('/api/accounts/x', { method: 'PUT', token: TOKENS.read, body: '{}' })).status).toBe(403);
    const res = await fetch(`${base}/api/signals`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'missing bearer token' });
  });

  it('ingests a week of line protocol with an incident and emails the right people exactly once', async () => {
    const accounts: Array<[string, number, boolean]> = [
      ['orbit-bank', 180, true],
      ['pine-labs', 250, true],
      ['quiet-co', 300, false],
    ];
    let i = 0;
    let batch: string[] = [];
    const flush = async () => {
      const res = await fetch(`${base}/api/v2/write?precision=ms`, {
        method: 'POST',
        headers: { authorization: `Token ${TOKENS.ingest}` },
        body: batch.join('\n'),
      });
      expect(res.status, await res.clone().text()).toBe(204);
      batch = [];
    };
    for (let t = startMs; t < endMs; t += STEP) {
      for (const [id, baseMs, incident] of accounts) {
        let v = latency(t, baseMs, i++);
        if (incident && t >= incidentStart && t < incidentEnd) v *= 1 + 3 * Math.min(1, (t - incidentStart) / (2 * HOUR));
        batch.push(`api,account=${id},host=web-1 latency_p95_ms=${v.toFixed(2)},requests=${1000 + (i % 7)}i ${t}`);
      }
      if (batch.length >= 3000) await flush();
    }
    await flush();
    for (let k = 0; k < 20 && fw.state.outboxDepth() > 0; k++) await fw.outbox.drainOnce();

    const signals = (await (await api('/api/signals', { token: TOKENS.read })).json()) as Array<Record<string, unknown>>;
    const latencySignals = signals.filter((s) => s.metric === 'api_latency_p95_ms');
    expect(latencySignals.map((s) => s.account).sort()).toEqual(['orbit-bank', 'pine-labs']);
    for (const s of latencySignals) {
      // both clocks recorded, ISO 8601 UTC; decided in event time inside the incident
      expect(s.openedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(s.openedAtWall).toMatch(/Z$/);
      const opened = Date.parse(s.openedAt as string);
      expect(opened).toBeGreaterThanOrEqual(incidentStart);
      expect(opened).toBeLessThan(incidentStart + 3 * HOUR);
      expect(s.state).toBe('resolved');
    }

    const to = (addr: string) => received.filter((m) => m.to.includes(addr));
    // strategic: CSM alert + technical advisory to the technical contact, once each
    const strategic = rules.tiers.tiers.find((t) => t.name === 'strategic')!;
    const sev = latencySignals.find((s) => s.account === 'orbit-bank')!.severity as 'warning' | 'critical';
    const strategicKinds = new Set([...strategic.policy.actions.warning, ...strategic.policy.actions[sev]]);
    expect(strategicKinds.has('technical_advisory')).toBe(true);
    const csm = to('dana@vendor.test');
    const tech = to('sre@orbit.test');
    expect(csm.filter((m) => !/resolved/i.test(header(m.raw, 'Subject')))).toHaveLength(1);
    const techAdvisories = tech.filter((m) => !/resolved/i.test(header(m.raw, 'Subject')));
    expect(techAdvisories).toHaveLength(1);
    const techText = decodeQp(techAdvisories[0]!.raw);
    expect(techText).toContain('api_latency_p95_ms');
    expect(techText).toContain('Orbit Bank');
    expect(techText).toMatch(/https?:\/\/\S+/); // runbook link
    expect(header(techAdvisories[0]!.raw, 'Message-ID')).toMatch(/^<adv-[0-9a-f]{16}@forewarn>$/);
    expect(techAdvisories[0]!.from).toBe('forewarn@example.test');
    const csmText = decodeQp(csm[0]!.raw);
    expect(csmText).toContain('Orbit Bank');

    // growth: a plain-language preventive advisory to the business contact, not a technical one
    const growth = rules.tiers.tiers.find((t) => t.name === 'growth')!;
    expect(growth.policy.actions.warning).toContain('preventive_advisory');
    expect(to('owner@pine.test').filter((m) => !/resolved/i.test(header(m.raw, 'Subject')))).toHaveLength(1);
    expect(to('dev@pine.test')).toHaveLength(0);

    // the healthy self-serve account hears nothing
    expect(to('it@quiet.test')).toHaveLength(0);

    // every Message-ID is unique: nothing was sent twice
    const ids = received.map((m) => header(m.raw, 'Message-ID'));
    expect(new Set(ids).size).toBe(ids.length);

    // resolution notes went to whoever was told about the incident (where the tier wants them)
    if (strategic.policy.resolutionNote) {
      expect(tech.filter((m) => /resolved/i.test(header(m.raw, 'Subject')) || /resolved/i.test(decodeQp(m.raw)))).not.toHaveLength(0);
    }
  });

  it('opens a pre-emptive ticket with priority, queue and SLO due times from the rules', async () => {
    const tickets = (await (await api('/api/tickets', { token: TOKENS.read })).json()) as Array<Record<string, string | number>>;
    const t = tickets.find((x) => x.account === 'orbit-bank');
    expect(t).toBeDefined();
    const strategic = rules.tiers.tiers.find((x) => x.name === 'strategic')!;
    const sev = t!.severity as 'warning' | 'critical';
    const base = rules.routing.priority[sev].strategic!;
    // orbit-bank is business-critical: raised by businessCriticalRaise steps
    const expected = `P${Math.max(1, Number(base.slice(1)) - rules.routing.businessCriticalRaise)}`;
    expect(t!.priority).toBe(expected);
    expect(t!.queue).toBe(rules.routing.queues.performance.queue);
    const created = Date.parse(t!.createdAtWall as string);
    expect(Date.parse(t!.ackDueWall as string) - created).toBe(strategic.slo.ackMs);
    expect(Date.parse(t!.firstResponseDueWall as string) - created).toBe(strategic.slo.firstResponseMs);
    expect(Date.parse(t!.resolveDueWall as string) - created).toBe(strategic.slo.resolveMs);
    // one ticket per episode
    expect(tickets.filter((x) => x.account === 'orbit-bank')).toHaveLength(1);

    const ack = await api(`/api/tickets/${t!.id}/ack`, { method: 'POST' });
    expect(ack.status).toBe(200);
    expect(((await ack.json()) as { state: string }).state).toBe('acknowledged');
    expect((await api(`/api/tickets/${t!.id}/ack`, { method: 'POST' })).status).toBe(409);
  });

  it('sends nothing twice after a restart on the same data folder', async () => {
    const before = received.length;
    await stopApp();
    await startApp();
    for (let k = 0; k < 5; k++) await fw.outbox.drainOnce();
    expect(received.length).toBe(before);
    const adv = (await (await api('/api/advisories?kind=technical_advisory', { token: TOKENS.read })).json()) as Array<{ status: string }>;
    expect(adv.length).toBeGreaterThan(0);
    expect(adv.every((a) => a.status === 'sent')).toBe(true);
  });

  it('reports malformed lines with their line numbers and keeps the good ones', async () => {
    const t = endMs;
    const body = [
      `api,account=quiet-co latency_p95_ms=310 ${t}`,
      `api,account=quiet-co latency_p95_ms=abc ${t}`,
      `api latency_p95_ms=1 ${t}`,
      `api,account=quiet-co requests=5i ${t}`,
    ].join('\n');
    const res = await fetch(`${base}/api/v2/write?precision=ms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ingest}` },
      body,
    });
    expect(res.status).toBe(400);
    const j = (await res.json()) as { error: string; detail: { accepted: number; rejected: Array<{ line: number; code: string }> } };
    expect(j.detail.accepted).toBe(2);
    expect(j.detail.rejected.map((r) => [r.line, r.code])).toEqual([
      [2, 'bad_value'],
      [3, 'missing_account'],
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/forewarn_points_rejected_total\{reason="missing_account"\} 1/);
  });
});
