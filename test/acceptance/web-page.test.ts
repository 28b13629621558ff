/**
 * The CSM web page in a real browser (Debian's Chromium driven by playwright-core) against the
 * real server on loopback: a week of telemetry with a latency incident still running on a
 * strategic account, so there is an open signal, advisories and a pre-emptive ticket. The page
 * must list the accounts with tier and health, show the incident account's signal, advisories,
 * ticket and charts, acknowledge the ticket, show API errors, and ask for a token when the
 * server has tokens. A screenshot goes to /tmp/forewarn-page.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForewarn, type Forewarn } from '../../src/app.ts';
import { loadRules } from '../../src/config/load-rules.ts';
import { loadServerConfig } from '../../src/config/server-config.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = '/tmp/forewarn-page.png';
const HOUR = 3_600_000;
const STEP = 5 * 60_000;
const TOKENS = { admin: 'admin-token-web-1', ingest: 'ingest-token-web-1', read: 'read-token-web-12' };

interface Running {
  fw: Forewarn;
  server: ServerType;
  base: string;
  dataDir: string;
}

const rules = loadRules(path.resolve('rules'));

async function startServer(env: Record<string, string>): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-web-'));
  const config = loadServerConfig({ FOREWARN_DATA_DIR: dataDir, FOREWARN_HOST: '127.0.0.1', PORT: '0', ...env });
  const fw = await createForewarn({ config, rules });
  const server = serve({ fetch: fw.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { fw, server, dataDir, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopServer(r: Running | undefined): Promise<void> {
  if (!r) return;
  await new Promise<void>((resolve) => r.server.close(() => resolve()));
  await r.fw.close();
  fs.rmSync(r.dataDir, { recursive: true, force: true });
}

/** Latency with a daily rhythm and a little deterministic noise. */
function latency(tsMs: number, base: number, i: number): number {
  const hour = (tsMs / HOUR) % 24;
  return base * (1 + 0.3 * Math.exp(-((hour - 14) ** 2) / 18)) * (1 + 0.03 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));
}

describe('the CSM web page in Chromium', () => {
  let open: Running | undefined;
  let guarded: Running | undefined;
  let context: BrowserContext | undefined;
  let profileDir: string | undefined;
  const pageErrors: string[] = [];

  const newPage = async (): Promise<Page> => {
    const page = await context!.newPage();
    page.setDefaultTimeout(10_000);
    page.setDefaultNavigationTimeout(10_000);
    // CSP violations and script errors surface here: the page must run clean under its own policy
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[134]/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    return page;
  };
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(`${open!.base}${p}`, { ...init, signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    open = await startServer({});
    const { base } = open;
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
        region: 'eu-west',
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
    for (const { id, ...body } of accounts) {
      const res = await fetch(`${base}/api/accounts/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.text()).toBe(201);
    }
    // eight days of latency; Orbit Bank's climbs to 4x over the last five hours and is still high
    const endMs = Math.floor((Date.now() - HOUR) / STEP) * STEP;
    const incidentStart = endMs - 5 * HOUR;
    let batch: string[] = [];
    let i = 0;
    const flush = async () => {
      const res = await fetch(`${base}/api/v2/write?precision=ms`, { method: 'POST', body: batch.join('\n') });
      expect(res.status, await res.text()).toBe(204);
      batch = [];
    };
    for (let t = endMs - 8 * 24 * HOUR; t <= endMs; t += STEP) {
      for (const [id, baseMs, incident] of [
        ['orbit-bank', 180, true],
        ['quiet-co', 300, false],
      ] as const) {
        let v = latency(t, baseMs, i++);
        if (incident && t >= incidentStart) v *= 1 + 3 * Math.min(1, (t - incidentStart) / (2 * HOUR));
        batch.push(`api,account=${id} latency_p95_ms=${v.toFixed(2)},requests=${1000 + (i % 7)}i ${t}`);
      }
      if (batch.length >= 3000) await flush();
    }
    await flush();
    for (let k = 0; k < 20 && open.fw.state.outboxDepth() > 0; k++) await open.fw.outbox.drainOnce();

    guarded = await startServer({ FOREWARN_TOKENS: `admin:${TOKENS.admin},ingest:${TOKENS.ingest},read:${TOKENS.read}` });

    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 20_000,
      viewport: { width: 1440, height: 1000 },
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
  });

  afterAll(async () => {
    await context?.close();
    await stopServer(open);
    await stopServer(guarded);
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  });

  it('has an incident to show: an open signal, sent advisories and an open ticket on orbit-bank', async () => {
    const signals = (await api('/api/signals?account=orbit-bank&state=open')).body as Array<{ rule: string }>;
    expect(signals.map((s) => s.rule)).toContain('latency_creep');
    const advisories = (await api('/api/advisories?account=orbit-bank')).body as Array<{ status: string }>;
    expect(advisories.length).toBeGreaterThan(0);
    expect(advisories.every((a) => a.status === 'sent')).toBe(true);
    const tickets = (await api('/api/tickets?account=orbit-bank')).body as Array<{ state: string }>;
    expect(tickets.map((t) => t.state)).toEqual(['open']);
  });

  it('lists every account with its tier, colour-coded health and open signals', async () => {
    const page = await newPage();
    await page.goto(`${open!.base}/`);
    const accounts = (await api('/api/accounts')).body as Array<{ id: string; tier: string; health: { score: number } }>;
    await page.locator('#accounts tbody tr[data-account="orbit-bank"]').waitFor();
    const rows = page.locator('#accounts tbody tr');
    expect(await rows.count()).toBe(accounts.length);
    for (const a of accounts) {
      const row = page.locator(`#accounts tbody tr[data-account="${a.id}"]`);
      await expect.poll(() => row.locator('.badge.tier').textContent()).toBe(a.tier);
      expect(await row.locator('.health').getAttribute('data-health')).toBe(String(Math.round(a.health.score)));
    }
    const orbit = page.locator('#accounts tbody tr[data-account="orbit-bank"]');
    expect(await orbit.locator('.health').getAttribute('class')).toMatch(/health-(bad|warn)/);
    expect(await orbit.locator('.signals-cell').textContent()).toContain('latency_creep');
    const quiet = page.locator('#accounts tbody tr[data-account="quiet-co"]');
    expect(await quiet.locator('.health').getAttribute('class')).toContain('health-good');
    expect(await quiet.locator('.signals-cell').textContent()).toBe('none');
    // the account that needs attention is at the top
    expect(await rows.first().getAttribute('data-account')).toBe('orbit-bank');

    // filter by tier, then search
    const strategic = accounts
      .filter((a) => a.tier === 'strategic')
      .map((a) => a.id)
      .sort();
    await page.selectOption('#tier-filter', 'strategic');
    const shownIds = async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-account')))).sort();
    expect(await shownIds()).toEqual(strategic);
    await page.selectOption('#tier-filter', '');
    await page.fill('#search', 'quiet');
    expect(await shownIds()).toEqual(['quiet-co']);
    await page.fill('#search', 'no account is called this');
    await page.locator('#empty').waitFor({ state: 'visible' });
    await page.fill('#search', '');
    expect(await rows.count()).toBe(accounts.length);

    // clicking an account opens it and puts its link in the address bar
    await orbit.click();
    await page.locator('#account h2', { hasText: 'Orbit Bank' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/accounts/orbit-bank');
    await page.close();
  });

  it('opens the email link of the incident account: health, signal, advisories, ticket, charts', async () => {
    const page = await newPage();
    await page.goto(`${open!.base}/accounts/orbit-bank`);
    await page.locator('#account h2', { hasText: 'Orbit Bank' }).waitFor();
    expect(await page.locator('#accounts tbody tr.selected').getAttribute('data-account')).toBe('orbit-bank');
    expect(await page.locator('#contributors').textContent()).toContain('api_latency_p95_ms');

    // every open signal the API lists, and among them the latency anomaly (its forecast stream may
    // have opened a "limit reached in ~N hours" signal beside it, depending on the hour the data ends)
    const openSignals = (await api('/api/signals?account=orbit-bank&state=open')).body as Array<{ id: string; rule: string }>;
    expect(await page.locator('#signals tbody tr.row-open').count()).toBe(openSignals.length);
    const anomaly = openSignals.find((s) => s.rule === 'latency_creep');
    expect(anomaly).toBeDefined();
    const signal = page.locator(`#signals tbody tr.row-open[data-signal="${anomaly!.id}"]`);
    expect(await signal.count()).toBe(1);
    expect(await signal.textContent()).toContain('latency_creep');
    expect(await signal.locator('.badge.state-open').textContent()).toBe('open');

    const advisories = (await api('/api/advisories?account=orbit-bank')).body as Array<{ id: string; subject: string }>;
    expect(await page.locator('#advisories tbody tr').count()).toBe(advisories.length);
    for (const a of advisories) {
      const row = page.locator(`#advisories tbody tr[data-advisory="${a.id}"]`);
      expect(await row.textContent()).toContain(a.subject);
      expect(await row.locator('.badge.status-sent').textContent()).toBe('sent');
    }

    const [ticket] = (await api('/api/tickets?account=orbit-bank')).body as Array<Record<string, string>>;
    const row = page.locator(`#tickets tbody tr[data-ticket="${ticket!.id}"]`);
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(ticket!.priority);
    expect(text).toContain(ticket!.queue);
    expect(await row.locator('[data-state]').textContent()).toBe('open');
    // times: local in the text, the UTC ISO instant in the title
    const ackDue = row.locator(`time[title="${ticket!.ackDueWall}"]`);
    expect(await ackDue.count()).toBe(1);
    const shown = (await ackDue.textContent()) ?? '';
    expect(shown).not.toContain('T');
    const local = new Date(ticket!.ackDueWall!).toLocaleString('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      minute: '2-digit',
    });
    expect(shown.replace(/\u202f/g, ' ')).toContain(local.replace(/\u202f/g, ' '));

    // a chart of the incident series with the signal's episode shaded
    const chart = page.locator('figure[data-metric="api_latency_p95_ms"] svg');
    await chart.locator('polyline.line').waitFor({ state: 'attached' });
    expect(((await chart.locator('polyline.line').getAttribute('points')) ?? '').split(' ').length).toBeGreaterThan(100);
    expect(await chart.locator('rect.episode').count()).toBeGreaterThan(0);
    await page.locator('figure[data-metric="api_requests"] svg polyline.line').waitFor({ state: 'attached' });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('acknowledges the ticket: open=>acknowledged on the page and in the API', async () => {
    const page = await newPage();
    await page.goto(`${open!.base}/accounts/orbit-bank`);
    const [ticket] = (await api('/api/tickets?account=orbit-bank')).body as Array<{ id: string }>;
    const row = page.locator(`#tickets tbody tr[data-ticket="${ticket!.id}"]`);
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator(`#tickets tbody tr[data-ticket="${ticket!.id}"] [data-state="acknowledged"]`).waitFor();
    expect(await page.locator('#banner').textContent()).toContain('acknowledged');
    expect(await row.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    expect(await row.getByRole('button', { name: 'Resolve' }).count()).toBe(1);
    const after = (await api(`/api/tickets?account=orbit-bank`)).body as Array<{ id: string; state: string; ackedAtWall?: string }>;
    expect(after.find((t) => t.id === ticket!.id)).toMatchObject({ state: 'acknowledged', ackedAtWall: expect.stringMatching(/Z$/) });
    await page.close();
  });

  it('shows the API error of a failed request instead of swallowing it', async () => {
    const page = await newPage();
    await page.goto(`${open!.base}/accounts/no-such-account`);
    await page.locator('#detail .error-text').waitFor();
    expect(await page.locator('#detail .error-text').textContent()).toContain('account "no-such-account" not found');
    expect(await page.locator('#detail .error-text').textContent()).toContain('404');
    await page.close();
  });

  it('asks for a token when the server has tokens: none=>wrong=>ingest-only=>read token=>list', async () => {
    const page = await newPage();
    await page.goto(`${guarded!.base}/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#main').isHidden()).toBe(true);
    expect(await page.locator('#login-error').isHidden()).toBe(true);

    await page.fill('#token', 'not-a-real-token');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('unknown token');
    expect(await page.locator('#login-error').textContent()).toContain('did not accept this token');
    await page.screenshot({ path: '/tmp/forewarn-login.png' });

    await page.fill('#token', TOKENS.ingest);
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('role ingest may not read');

    await page.fill('#token', TOKENS.read);
    await page.click('#login-form button[type=submit]');
    await page.locator('#accounts tbody tr[data-account="acme-corp"]').waitFor();
    expect(await page.locator('#login').isHidden()).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('forewarn.token')")).toBe(TOKENS.read);

    // asked once: a reload in the same tab goes straight to the list
    await page.reload();
    await page.locator('#accounts tbody tr[data-account="acme-corp"]').waitFor();
    expect(await page.locator('#login').isHidden()).toBe(true);
    await page.close();
  });

  it('ran without script errors or Content-Security-Policy violations', () => {
    expect(pageErrors).toEqual([]);
  });
});
