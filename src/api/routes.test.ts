/**
 * The HTTP API through `app.request()` (no server), wired by `createForewarn` with in-memory
 * stores, a memory notifier and a manual clock: auth roles, account validation and views,
 * query-parameter validation, both ingest endpoints (partial writes, precision, gzip, body
 * limit, admission rejections), ticket transitions, /healthz and /metrics.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createForewarn, type Forewarn } from '../app.ts';
import { loadServerConfig } from '../config/server-config.ts';
import { ManualClock } from '../domain/clock.ts';
import type { Ticket } from '../domain/types.ts';
import { createMemoryNotifier } from '../notify/memory.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { createSqliteStateStore } from '../store/sqlite/sqlite-state-store.ts';
import { defaultBundle, makeSignal, makeTicket, T0 } from '../../test/fixtures/bundle.ts';

const TOKEN = { admin: 'admin-token-1234', ingest: 'ingest-token-1234', read: 'read-token-12345' };
const TOKENS_ENV = `admin:${TOKEN.admin},ingest:${TOKEN.ingest},read:${TOKEN.read}`;
const MIN = 60_000;

const open: Forewarn[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function boot(env: Record<string, string> = {}) {
  const clock = new ManualClock(T0);
  const config = loadServerConfig({ FOREWARN_TOKENS: TOKENS_ENV, ...env });
  const fw = await createForewarn({
    config,
    rules: defaultBundle(),
    clock,
    state: createSqliteStateStore({ path: ':memory:' }),
    store: createMemoryStore(),
    notifier: createMemoryNotifier(),
  });
  open.push(fw);
  const req = (path: string, init: RequestInit & { token?: keyof typeof TOKEN | null } = {}) => {
    const { token = 'admin', headers, ...rest } = init;
    const h = new Headers(headers);
    if (token) h.set('authorization', `Bearer ${TOKEN[token]}`);
    return fw.app.request(path, { ...rest, headers: h });
  };
  const json = async (path: string, init: Parameters<typeof req>[1] = {}) => {
    const res = await req(path, init);
    return { status: res.status, body: (await res.json()) as any };
  };
  const put = (id: string, body: unknown, token: keyof typeof TOKEN = 'admin') =>
    json(`/api/accounts/${id}`, {
      method: 'PUT',
      token,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const write = (body: string | Uint8Array, query = 'precision=ms', init: Parameters<typeof req>[1] = {}) =>
    req(`/api/v2/write?${query}`, { method: 'POST', token: 'ingest', body, ...init });
  const stored = async (account: string, metric: string) =>
    Array.from((await fw.store.query({ account, metric }, 0, Number.MAX_SAFE_INTEGER)).values);
  return { fw, clock, req, json, put, write, stored };
}

describe('auth', () => {
  it.each<[string, string, string, keyof typeof TOKEN, number]>([
    ['read may read accounts', 'GET', '/api/accounts', 'read', 200],
    ['read may read tickets', 'GET', '/api/tickets', 'read', 200],
    ['read may not write accounts', 'PUT', '/api/accounts/x', 'read', 403],
    ['read may not ingest', 'POST', '/api/v2/write', 'read', 403],
    ['read may not ack tickets', 'POST', '/api/tickets/t/ack', 'read', 403],
    ['ingest may ingest', 'POST', '/api/v2/write', 'ingest', 204],
    ['ingest may ingest JSON', 'POST', '/api/telemetry', 'ingest', 204],
    ['ingest may not read', 'GET', '/api/accounts', 'ingest', 403],
    ['ingest may not write accounts', 'PUT', '/api/accounts/x', 'ingest', 403],
    ['admin may read', 'GET', '/api/signals', 'admin', 200],
    ['admin may ingest', 'POST', '/api/v2/write', 'admin', 204],
  ])('%s (%s %s) -> %i', async (_name, method, path, token, status) => {
    const { req } = await boot();
    const body = method === 'GET' ? null : path.endsWith('telemetry') ? '[]' : path.endsWith('write') ? '' : '{"name":"X"}';
    const res = await req(path, { method, token, body });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(await res.json()).toEqual({
        error: expect.stringMatching(new RegExp(`^role ${token} may not (read|write|ingest)$`)),
        detail: { role: token, needs: expect.any(String) },
      });
    }
  });

  it.each<[string, Record<string, string>, string]>([
    ['no Authorization header', {}, 'missing bearer token'],
    ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }, 'missing bearer token'],
    ['an unknown token', { authorization: 'Bearer not-a-known-token' }, 'unknown token'],
  ])('%s -> 401 JSON', async (_name, headers, error) => {
    const { req } = await boot();
    const res = await req('/api/accounts', { token: null, headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await res.json()) as { error: string }).error).toBe(error);
  });

  it('the InfluxDB "Token" scheme is accepted (Telegraf and the Influx clients send it)', async () => {
    const { req } = await boot();
    const res = await req('/api/v2/write?precision=ms', {
      method: 'POST',
      token: null,
      headers: { authorization: `Token ${TOKEN.ingest}` },
      body: `m,account=a v=1 ${T0}`,
    });
    expect(res.status).toBe(204);
  });

  it('without tokens configured (loopback only) every request is admin', async () => {
    const { req } = await boot({ FOREWARN_TOKENS: '' });
    expect((await req('/api/accounts', { token: null })).status).toBe(200);
    expect((await req('/api/accounts/x', { method: 'PUT', token: null, body: '{"name":"X"}' })).status).toBe(201);
  });

  it.each(['/healthz', '/metrics'])('%s needs no token (probes and scrapers)', async (path) => {
    const { req } = await boot();
    expect((await req(path, { token: null })).status).toBe(200);
  });
});

describe('PUT /api/accounts/:id', () => {
  const good = {
    name: 'Wayne Enterprises',
    contract_value_usd: 250_000,
    criticality: 'high',
    csm: { name: 'Lucius', email: 'lucius@vendor.example' },
    technical_contacts: [{ name: 'Ops', email: 'ops@wayne.example' }],
    region: 'us-east',
  };

  it('absent=>created (201) =>updated (200); createdAt kept, updatedAt moves, tier derived', async () => {
    const { put, clock } = await boot();
    const first = await put('wayne', good);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: 'wayne',
      name: 'Wayne Enterprises',
      tier: 'enterprise',
      unclassified: false,
      createdAt: new Date(T0).toISOString(),
      attributes: { contractValueUsd: 250_000, monthlyUsage: 0, criticality: 'high', strategic: false, businessCritical: false },
      csm: { name: 'Lucius', email: 'lucius@vendor.example' },
      businessContacts: [],
      openSignals: [],
      health: { score: 100, contributors: [] },
    });
    expect(first.body.createdAtMs).toBeUndefined();
    clock.advance(MIN);
    const second = await put('wayne', { ...good, contract_value_usd: 5000, monthly_usage: 10 });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      tier: 'self-serve',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0 + MIN).toISOString(),
    });
  });

  it('an explicit known tier overrides the derived one', async () => {
    const { put } = await boot();
    expect((await put('small', { name: 'Small', tier: 'strategic' })).body.tier).toBe('strategic');
  });

  it('unknown tier -> 400 naming the tier and listing the known ones', async () => {
    const { put } = await boot();
    const r = await put('x', { name: 'X', tier: 'gold' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'unknown tier "gold"', detail: { tiers: ['strategic', 'enterprise', 'growth', 'self-serve'] } });
  });

  it.each<[string, unknown, string]>([
    ['missing name', {}, 'name'],
    ['empty name', { name: '' }, 'name'],
    ['negative contract value', { name: 'X', contract_value_usd: -1 }, 'contract_value_usd'],
    ['contract value as a string', { name: 'X', contract_value_usd: '100' }, 'contract_value_usd'],
    ['unknown criticality', { name: 'X', criticality: 'extreme' }, 'criticality'],
    ['strategic not a boolean', { name: 'X', strategic: 'yes' }, 'strategic'],
    ['bad CSM email', { name: 'X', csm: { name: 'C', email: 'not-an-email' } }, 'csm.email'],
    ['contact without email', { name: 'X', technical_contacts: [{ name: 'T' }] }, 'technical_contacts.0.email'],
    [
      'second business contact bad',
      {
        name: 'X',
        business_contacts: [
          { name: 'A', email: 'a@x.example' },
          { name: '', email: 'b@x.example' },
        ],
      },
      'business_contacts.1.name',
    ],
  ])('%s -> 400 with an issue at %s', async (_name, body, path) => {
    const { put } = await boot();
    const r = await put('x', body);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid account');
    expect(r.body.detail.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it('a misspelt key is an error naming the key', async () => {
    const { put } = await boot();
    const r = await put('x', { name: 'X', contract_value: 5 });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.detail.issues)).toContain('contract_value');
  });

  it.each([
    ['not JSON', '{name:', 'body is not valid JSON'],
    ['bad id', null, 'invalid account id'],
  ])('%s -> 400', async (_name, body, error) => {
    const { put } = await boot();
    const r = body === null ? await put('bad%20id!', { name: 'X' }) : await put('x', body);
    expect(r.status).toBe(400);
    expect(r.body.error).toContain(error);
  });

  it('an id of 129 characters is refused, 128 accepted', async () => {
    const { put } = await boot();
    expect((await put('a'.repeat(129), { name: 'X' })).status).toBe(400);
    expect((await put('a'.repeat(128), { name: 'X' })).status).toBe(201);
  });

  it('telemetry-created placeholder=>classified by PUT (200, unclassified false)', async () => {
    const { put, write, json } = await boot();
    await write(`m,account=newco v=1 ${T0}`);
    expect((await json('/api/accounts/newco')).body).toMatchObject({ unclassified: true, tier: 'self-serve', name: 'newco' });
    const r = await put('newco', { name: 'NewCo', strategic: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ unclassified: false, tier: 'strategic', name: 'NewCo' });
  });
});

describe('account ids from telemetry', () => {
  it('an account that telemetry registered can be classified with PUT (or its telemetry was refused)', async () => {
    const { write, put, json } = await boot();
    // a valid line protocol tag value with an escaped space: account "acme corp"
    const res = await write(`m,account=acme\\ corp v=1 ${T0}`);
    if (res.status === 204) {
      expect((await json('/api/accounts/acme%20corp', { token: 'read' })).status).toBe(200);
      expect((await put('acme%20corp', { name: 'Acme Corp' })).status).toBe(200);
    } else {
      expect(res.status).toBe(400);
    }
  });
});

describe('GET accounts', () => {
  it("lists each account's own open signals, and only open ones", async () => {
    const { json, fw } = await boot();
    fw.state.saveSignal(makeSignal({ id: 'sig-a', account: 'acme-corp', state: 'open' }));
    fw.state.saveSignal(makeSignal({ id: 'sig-b', account: 'globex', state: 'open' }));
    fw.state.saveSignal(makeSignal({ id: 'sig-c', account: 'globex', state: 'resolved' }));
    const r = await json('/api/accounts', { token: 'read' });
    const open = Object.fromEntries(
      r.body.map((a: { id: string; openSignals: Array<{ id: string }> }) => [a.id, a.openSignals.map((s) => s.id)]),
    );
    expect(open).toMatchObject({ 'acme-corp': ['sig-a'], globex: ['sig-b'], initech: [] });
    // the single-account view agrees with the list
    expect((await json('/api/accounts/globex', { token: 'read' })).body.openSignals.map((s: { id: string }) => s.id)).toEqual(['sig-b']);
  });

  it('lists the seeded accounts with their tier and health', async () => {
    const { json } = await boot();
    const r = await json('/api/accounts', { token: 'read' });
    expect(r.status).toBe(200);
    const tiers = Object.fromEntries(r.body.map((a: { id: string; tier: string }) => [a.id, a.tier]));
    expect(tiers).toEqual({
      'acme-corp': 'strategic',
      globex: 'enterprise',
      'umbrella-health': 'enterprise',
      initech: 'growth',
      'hooli-labs': 'self-serve',
      'stark-retail': 'enterprise',
    });
    for (const a of r.body) expect(a.health).toEqual({ score: 100, contributors: [] });
  });

  it.each([
    ['enterprise', ['globex', 'stark-retail', 'umbrella-health']],
    ['growth', ['initech']],
    ['gold', []],
  ])('?tier=%s -> %j', async (tier, ids) => {
    const { json } = await boot();
    const r = await json(`/api/accounts?tier=${tier}`, { token: 'read' });
    expect(r.body.map((a: { id: string }) => a.id).sort()).toEqual(ids);
  });

  it('GET one account; its health and series after telemetry', async () => {
    const { json, write } = await boot();
    await write(
      [`api,account=initech latency_p95_ms=120 ${T0 - 2 * MIN}`, `api,account=initech latency_p95_ms=130 ${T0 - MIN}`].join('\n'),
    );
    expect((await json('/api/accounts/initech', { token: 'read' })).body).toMatchObject({ id: 'initech', tier: 'growth' });
    const health = await json('/api/accounts/initech/health', { token: 'read' });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ account: 'initech' });
    expect(health.body.series.map((s: { series: string }) => s.series)).toEqual(['api_latency_p95_ms']);
    expect(health.body.series[0].last).toBe(new Date(T0 - MIN).toISOString());
    const series = await json('/api/accounts/initech/series?metric=api_latency_p95_ms', { token: 'read' });
    expect(series.body).toEqual({
      account: 'initech',
      metric: 'api_latency_p95_ms',
      points: [
        [new Date(T0 - 2 * MIN).toISOString(), 120],
        [new Date(T0 - MIN).toISOString(), 130],
      ],
    });
    const ranged = await json(`/api/accounts/initech/series?metric=api_latency_p95_ms&from=${new Date(T0 - MIN).toISOString()}`, {
      token: 'read',
    });
    expect(ranged.body.points).toHaveLength(1);
    const list = await json('/api/accounts/initech/series', { token: 'read' });
    expect(list.body).toEqual([
      {
        account: 'initech',
        metric: 'api_latency_p95_ms',
        points: 2,
        first: new Date(T0 - 2 * MIN).toISOString(),
        last: new Date(T0 - MIN).toISOString(),
      },
    ]);
  });
});

describe('404s are JSON', () => {
  it.each<[string, string, string, string]>([
    ['unknown route', 'GET', '/api/nope', 'no route for GET /api/nope'],
    ['unknown method on a route', 'DELETE', '/api/accounts/acme-corp', 'no route for DELETE /api/accounts/acme-corp'],
    ['unknown account', 'GET', '/api/accounts/nobody', 'account "nobody" not found'],
    ['unknown account health', 'GET', '/api/accounts/nobody/health', 'account "nobody" not found'],
    ['unknown account series', 'GET', '/api/accounts/nobody/series', 'account "nobody" not found'],
    ['unknown ticket', 'POST', '/api/tickets/nope/ack', 'ticket "nope" not found'],
  ])('%s: %s %s', async (_name, method, path, error) => {
    const { req } = await boot();
    const res = await req(path, { method });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error, detail: null });
  });
});

describe('query parameters', () => {
  it.each<[string, string]>([
    ['/api/signals?limit=0', 'limit'],
    ['/api/signals?limit=10001', 'limit'],
    ['/api/signals?limit=abc', 'limit'],
    ['/api/signals?limit=1.5', 'limit'],
    ['/api/signals?state=closed', 'state'],
    ['/api/tickets?state=done', 'state'],
    ['/api/tickets?limit=-3', 'limit'],
    ['/api/advisories?kind=spam', 'kind'],
    ['/api/advisories?since=yesterday', 'since'],
    ['/api/advisories?limit=', 'limit'],
    ['/api/accounts/acme-corp/series?metric=x&from=soon', 'from'],
    ['/api/accounts/acme-corp/series?metric=x&to=later', 'to'],
  ])('%s -> 400 naming %s', async (path, parameter) => {
    const { json } = await boot();
    const r = await json(path, { token: 'read' });
    expect(r.status).toBe(400);
    expect(r.body.detail).toEqual({ parameter });
    expect(r.body.error).toMatch(new RegExp(`^invalid ${parameter}\\b`));
  });

  it.each([
    '/api/signals?limit=1&state=open&account=acme-corp',
    '/api/signals?limit=10000',
    '/api/tickets?state=acknowledged',
    '/api/advisories?kind=ticket_escalation&since=2024-03-07T00:00:00Z',
    `/api/advisories?kind=csm_alert&since=${T0}`,
  ])('%s -> 200 []', async (path) => {
    const { json } = await boot();
    expect(await json(path, { token: 'read' })).toEqual({ status: 200, body: [] });
  });

  it('?limit caps the list; ?state and ?account filter it', async () => {
    const { json, fw } = await boot();
    fw.state.saveTicket(makeTicket({ id: 't1', account: 'a', createdAtWallMs: T0 }));
    fw.state.saveTicket(makeTicket({ id: 't2', account: 'b', createdAtWallMs: T0 + 1 }));
    fw.state.saveTicket(makeTicket({ id: 't3', account: 'a', state: 'acknowledged', createdAtWallMs: T0 + 2 }));
    expect((await json('/api/tickets?limit=2')).body).toHaveLength(2);
    expect((await json('/api/tickets?state=open')).body.map((t: Ticket) => t.id).sort()).toEqual(['t1', 't2']);
    expect((await json('/api/tickets?account=a')).body.map((t: Ticket) => t.id).sort()).toEqual(['t1', 't3']);
  });
});

describe('GET /api/advisories', () => {
  it('filters by kind and since (wall time of the decision) and shows ISO times', async () => {
    const { json, fw } = await boot();
    const base = {
      signalId: 'sig-1',
      account: 'acme-corp',
      severity: 'warning' as const,
      tier: 'strategic',
      to: ['x@y.example'],
      subject: 's',
      text: 't',
      html: 'h',
      decidedAtMs: T0,
      status: 'pending' as const,
      attempts: 0,
      nextAttemptAtWallMs: T0,
    };
    fw.state.enqueueAdvisory({ ...base, id: 'adv-1', dedupKey: 'sig-1:csm_alert', kind: 'csm_alert', decidedAtWallMs: T0 });
    fw.state.enqueueAdvisory({
      ...base,
      id: 'adv-2',
      dedupKey: 'sig-1:technical_advisory',
      kind: 'technical_advisory',
      decidedAtWallMs: T0 + 60 * MIN,
    });
    const ids = async (q: string) => (await json(`/api/advisories${q}`, { token: 'read' })).body.map((a: { id: string }) => a.id).sort();
    expect(await ids('')).toEqual(['adv-1', 'adv-2']);
    expect(await ids('?kind=csm_alert')).toEqual(['adv-1']);
    expect(await ids(`?since=${new Date(T0 + 30 * MIN).toISOString()}`)).toEqual(['adv-2']);
    expect(await ids(`?since=${T0 + 30 * MIN}`)).toEqual(['adv-2']);
    expect(await ids('?account=globex')).toEqual([]);
    const one = (await json('/api/advisories?kind=csm_alert', { token: 'read' })).body[0];
    expect(one).toMatchObject({ decidedAtWall: new Date(T0).toISOString(), kind: 'csm_alert', status: 'pending' });
  });
});

describe('POST /api/v2/write', () => {
  it('a good body -> 204, every numeric field stored as <measurement>_<field>', async () => {
    const { write, stored } = await boot();
    const res = await write(`api,account=acme-corp,host=h1 requests=1200i,errors=3i ${T0}\nquota,account=acme-corp used_ratio=0.4 ${T0}`);
    expect(res.status).toBe(204);
    expect(await stored('acme-corp', 'api_requests')).toEqual([1200]);
    expect(await stored('acme-corp', 'api_errors')).toEqual([3]);
    expect(await stored('acme-corp', 'quota_used_ratio')).toEqual([0.4]);
  });

  it('partial write: 400 listing every bad line with its number and code; the good lines are stored', async () => {
    const { write, stored } = await boot();
    const body = [
      `m,account=a v=1 ${T0}`, // 1 ok
      `m,account=a v=oops ${T0 + 1}`, // 2 bad_value
      `m v=2 ${T0 + 2}`, // 3 missing_account
      '# comment', // 4
      `m,account=a v=3 ${T0 + 20 * MIN}`, // 5 future
      `m,account=a v=4 ${T0 + 3}`, // 6 ok
      'garbage', // 7 syntax
    ].join('\n');
    const res = await write(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as any;
    expect(json.detail.accepted).toBe(2);
    expect(json.detail.rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [2, 'bad_value'],
      [3, 'missing_account'],
      [5, 'future_timestamp'],
      [7, 'syntax'],
    ]);
    expect(json.error).toMatch(/^4 line\(s\) rejected, 2 point\(s\) accepted; first: line 2: /);
    // InfluxDB-compatible fields for Telegraf's logs
    expect(json.code).toBe('invalid');
    expect(json.message).toBe(json.error);
    expect(await stored('a', 'm_v')).toEqual([1, 4]);
  });

  it.each<[string, string, number]>([
    ['s', `${T0 / 1000}`, T0],
    ['ms', `${T0}`, T0],
    ['us', `${T0}000`, T0],
    ['ns', `${T0}000000`, T0],
  ])('precision=%s', async (precision, ts, want) => {
    const { write, fw } = await boot();
    expect((await write(`m,account=a v=1 ${ts}`, `precision=${precision}`)).status).toBe(204);
    expect(Array.from((await fw.store.query({ account: 'a', metric: 'm_v' }, 0, Number.MAX_SAFE_INTEGER)).tsMs)).toEqual([want]);
  });

  it('the org and bucket parameters that InfluxDB clients always send are accepted and ignored', async () => {
    const { write, stored } = await boot();
    expect((await write(`m,account=a v=1 ${T0 / 1000}`, 'org=acme&bucket=telemetry&precision=s')).status).toBe(204);
    expect(await stored('a', 'm_v')).toEqual([1]);
  });

  it('no precision means ns; a line without timestamp gets the server clock', async () => {
    const { write, fw, clock } = await boot();
    clock.set(T0 + 5000);
    expect((await write(`m,account=a v=1 ${T0}000000\nm,account=a w=2`, '')).status).toBe(204);
    expect(Array.from((await fw.store.query({ account: 'a', metric: 'm_v' }, 0, Infinity)).tsMs)).toEqual([T0]);
    expect(Array.from((await fw.store.query({ account: 'a', metric: 'm_w' }, 0, Infinity)).tsMs)).toEqual([T0 + 5000]);
  });

  it.each(['h', 'toString', 'constructor'])('an invalid precision (%s) -> 400 naming the parameter, nothing stored', async (precision) => {
    const { write, fw } = await boot();
    const res = await write(`m,account=a v=1 ${T0}`, `precision=${precision}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: `invalid precision "${precision}" (ns, us, ms or s)`, detail: { parameter: 'precision' } });
    expect(await fw.store.listSeries()).toEqual([]);
  });

  it('a gzip body (Content-Encoding: gzip) is decompressed', async () => {
    const { write, stored } = await boot();
    const res = await write(gzipSync(`m,account=a v=7 ${T0}`), 'precision=ms', { headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(204);
    expect(await stored('a', 'm_v')).toEqual([7]);
  });

  it.each<[string, string, number, string]>([
    ['not gzip at all', 'gzip', 400, 'body is not valid gzip'],
    ['an unsupported encoding', 'br', 415, 'unsupported content-encoding "br" (use gzip or none)'],
  ])('%s -> %i', async (_name, encoding, status, error) => {
    const { write } = await boot();
    const res = await write(`m,account=a v=1 ${T0}`, 'precision=ms', { headers: { 'content-encoding': encoding } });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toBe(error);
  });

  it('a body over FOREWARN_MAX_BODY_BYTES -> 413 JSON, counted as body_too_large, nothing stored', async () => {
    const { write, fw, req } = await boot({ FOREWARN_MAX_BODY_BYTES: '1024' });
    const line = `m,account=a v=1 ${T0}\n`;
    const body = line.repeat(Math.ceil(2048 / line.length));
    const res = await write(body);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'request body over the limit of 1024 bytes', detail: { limitBytes: 1024 } });
    expect(await fw.store.listSeries()).toEqual([]);
    expect(await (await req('/metrics')).text()).toMatch(/forewarn_points_rejected_total\{reason="body_too_large"\} 1/);
  });

  it('a body over the limit announced by Content-Length -> 413 before it is read', async () => {
    const { write } = await boot({ FOREWARN_MAX_BODY_BYTES: '1024' });
    const body = `m,account=a v=1 ${T0}\n`.repeat(100);
    const res = await write(body, 'precision=ms', { headers: { 'content-length': String(Buffer.byteLength(body)) } });
    expect(res.status).toBe(413);
  });

  it('a body just under the limit is accepted', async () => {
    const { write } = await boot({ FOREWARN_MAX_BODY_BYTES: '1024' });
    const line = `m,account=a v=1 ${T0}\n`;
    expect((await write(line.repeat(Math.floor(1024 / line.length)))).status).toBe(204);
  });

  it('a small gzip body that inflates over the limit -> 413', async () => {
    const { write } = await boot({ FOREWARN_MAX_BODY_BYTES: '1024' });
    const bomb = gzipSync(`m,account=a v=1 ${T0}\n`.repeat(1000));
    expect(bomb.length).toBeLessThan(1024);
    const res = await write(bomb, 'precision=ms', { headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('decompressed body over the limit of 1024 bytes');
  });

  it('FOREWARN_ACCOUNT_TAG picks the tag that carries the account', async () => {
    const { write, stored } = await boot({ FOREWARN_ACCOUNT_TAG: 'tenant' });
    expect((await write(`m,tenant=t1 v=1 ${T0}`)).status).toBe(204);
    expect(await stored('t1', 'm_v')).toEqual([1]);
    const res = await write(`m,account=t2 v=1 ${T0}`);
    expect(((await res.json()) as any).detail.rejected[0].code).toBe('missing_account');
  });

  it('strict accounts: unknown=>400 unknown_account; after PUT=>204', async () => {
    const { write, put } = await boot({ FOREWARN_STRICT_ACCOUNTS: 'true' });
    const res = await write(`m,account=newco v=1 ${T0}\nm,account=acme-corp v=1 ${T0}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.detail.accepted).toBe(1);
    expect(body.detail.rejected).toEqual([
      { line: 1, code: 'unknown_account', reason: expect.stringContaining('unknown account "newco"') },
    ]);
    expect((await put('newco', { name: 'NewCo' })).status).toBe(201);
    expect((await write(`m,account=newco v=1 ${T0}`)).status).toBe(204);
  });

  it('series limit: the metric past FOREWARN_MAX_SERIES_PER_ACCOUNT is rejected as series_limit', async () => {
    const { write, stored } = await boot({ FOREWARN_MAX_SERIES_PER_ACCOUNT: '2' });
    const res = await write(`m,account=a x=1,y=2 ${T0}\nm,account=a z=3 ${T0}\nm,account=a x=4 ${T0 + 1}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.detail.rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([[2, 'series_limit']]);
    expect(await stored('a', 'm_x')).toEqual([1, 4]);
  });
});

describe('POST /api/telemetry', () => {
  it('a good array -> 204, stored', async () => {
    const { req, stored } = await boot();
    const res = await req('/api/telemetry', {
      method: 'POST',
      token: 'ingest',
      body: JSON.stringify([
        { account: 'a', metric: 'cpu', ts: new Date(T0).toISOString(), value: 0.5 },
        { account: 'a', metric: 'cpu', ts: T0 + 1000, value: 0.6 },
      ]),
    });
    expect(res.status).toBe(204);
    expect(await stored('a', 'cpu')).toEqual([0.5, 0.6]);
  });

  it('partial: 400 with item numbers and codes; the good items are stored', async () => {
    const { req, stored } = await boot();
    const res = await req('/api/telemetry', {
      method: 'POST',
      token: 'ingest',
      body: JSON.stringify([
        { account: 'a', metric: 'cpu', ts: T0, value: 1 },
        { account: 'a', metric: 'cpu', timestamp: T0, value: 2 },
        { metric: 'cpu', ts: T0, value: 3 },
        { account: 'a', metric: 'cpu', ts: T0 + 60 * MIN, value: 4 },
        { account: 'a', metric: 'cpu', ts: T0 + 1, value: 5 },
      ]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.detail.accepted).toBe(2);
    expect(body.detail.rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [2, 'syntax'],
      [3, 'missing_account'],
      [4, 'future_timestamp'],
    ]);
    expect(await stored('a', 'cpu')).toEqual([1, 5]);
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '[{', /^body is not valid JSON$/],
    ['not an array', '{"account":"a"}', /^1 line\(s\) rejected, 0 point\(s\) accepted; first: line 0: body must be a json array/],
  ])('%s -> 400', async (_name, body, error) => {
    const { req } = await boot();
    const res = await req('/api/telemetry', { method: 'POST', token: 'ingest', body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(error);
  });
});

describe('tickets', () => {
  async function withTicket(state: Ticket['state'] = 'open') {
    const b = await boot();
    b.fw.state.saveTicket(makeTicket({ id: 'tkt-9', state, ...(state !== 'open' ? { ackedAtWallMs: T0 } : {}) }));
    b.clock.set(T0 + 10 * MIN);
    return b;
  }
  const at = new Date(T0 + 10 * MIN).toISOString();

  it('open=>acknowledged: 200 with ackedAt = now, stored', async () => {
    const { json, fw } = await withTicket('open');
    const r = await json('/api/tickets/tkt-9/ack', { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'tkt-9', state: 'acknowledged', ackedAtWall: at });
    expect(r.body.resolvedAtWall).toBeUndefined();
    expect(fw.state.getTicket('tkt-9')).toMatchObject({ state: 'acknowledged', ackedAtWallMs: T0 + 10 * MIN });
  });

  it('acknowledged=>resolved: 200, resolvedAt = now, the acknowledgement time kept', async () => {
    const { json } = await withTicket('acknowledged');
    const r = await json('/api/tickets/tkt-9/resolve', { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'resolved', resolvedAtWall: at, ackedAtWall: new Date(T0).toISOString() });
  });

  it('open=>resolved: 200, acknowledged and resolved at the same time', async () => {
    const { json } = await withTicket('open');
    const r = await json('/api/tickets/tkt-9/resolve', { method: 'POST' });
    expect(r.body).toMatchObject({ state: 'resolved', resolvedAtWall: at, ackedAtWall: at });
  });

  it.each<[Ticket['state'], string, string]>([
    ['acknowledged', 'ack', 'ticket "tkt-9" is already acknowledged'],
    ['resolved', 'ack', 'ticket "tkt-9" is already resolved'],
    ['resolved', 'resolve', 'ticket "tkt-9" is already resolved'],
  ])('%s=>%s: 409, unchanged', async (state, action, error) => {
    const { json, fw } = await withTicket(state);
    const before = fw.state.getTicket('tkt-9');
    const r = await json(`/api/tickets/tkt-9/${action}`, { method: 'POST' });
    expect(r).toEqual({ status: 409, body: { error, detail: null } });
    expect(fw.state.getTicket('tkt-9')).toEqual(before);
  });

  it('a ticket listed by GET /api/tickets has ISO times and no ...Ms keys', async () => {
    const { json } = await withTicket('open');
    const r = await json('/api/tickets', { token: 'read' });
    expect(r.body).toHaveLength(1);
    expect(r.body[0]).toMatchObject({ id: 'tkt-9', ackDueWall: new Date(T0 + 4 * 3_600_000).toISOString() });
    expect(Object.keys(r.body[0]).filter((k) => k.endsWith('Ms'))).toEqual([]);
  });
});

describe('operations', () => {
  it('/healthz reports status, the wall clock, the outbox depth and the stage facts', async () => {
    const { json } = await boot();
    const r = await json('/healthz', { token: null });
    expect(r).toEqual({
      status: 200,
      body: { status: 'ok', time: new Date(T0).toISOString(), outboxDepth: 0, series: 0, store: expect.any(String), notifier: 'memory' },
    });
  });

  it('/metrics: Prometheus text with rejections counted by reason and ingest requests by code', async () => {
    const { write, req } = await boot();
    await write(`m,account=a v=1 ${T0}\nbad\nm v=1 ${T0}\nm,account=a v=1 ${T0 + 60 * MIN}\nm,account=a v=2 ${T0 + 61 * MIN}`);
    await write(`m,account=a v=1 ${T0}`);
    const res = await req('/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^forewarn_points_rejected_total\{reason="syntax"\} 1$/m);
    expect(text).toMatch(/^forewarn_points_rejected_total\{reason="missing_account"\} 1$/m);
    expect(text).toMatch(/^forewarn_points_rejected_total\{reason="future_timestamp"\} 2$/m);
    expect(text).toMatch(/^forewarn_ingest_points_total\{source="line_protocol"\} 2$/m);
    expect(text).toMatch(/^forewarn_ingest_requests_total\{endpoint="write",code="400"\} 1$/m);
    expect(text).toMatch(/^forewarn_ingest_requests_total\{endpoint="write",code="204"\} 1$/m);
    expect(text).toMatch(/^forewarn_outbox_depth 0$/m);
  });
});
