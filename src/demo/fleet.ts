/**
 * The demo fleet, pure and seeded: accounts across every tier with realistic usage telemetry
 * (daily and weekly seasonality in the account's own time zone, noise that scales like real
 * counters) and incidents injected at known times, each with the moment it becomes visible to
 * the customer, so the demo can measure lead time.
 */
import { utcOffsetMinutes } from '../domain/timezone.ts';
import type { Contact, Criticality } from '../domain/types.ts';

export type IncidentType =
  'latency_creep' | 'error_rate_rise' | 'usage_collapse' | 'integration_failures' | 'quota_exhaustion' | 'auth_attack';

export const INCIDENT_TYPES: readonly IncidentType[] = [
  'latency_creep',
  'error_rate_rise',
  'usage_collapse',
  'integration_failures',
  'quota_exhaustion',
  'auth_attack',
];

/** The series a signal must be about to count as catching an incident of each type. */
export const INCIDENT_SERIES: Record<IncidentType, string> = {
  latency_creep: 'api_latency_p95_ms',
  error_rate_rise: 'api_errors/api_requests',
  usage_collapse: 'api_requests',
  integration_failures: 'integration_failures',
  quota_exhaustion: 'quota_used_ratio',
  auth_attack: 'auth_failures',
};

export type IntendedTier = 'strategic' | 'enterprise' | 'growth' | 'self-serve';

export interface DemoAccount {
  id: string;
  name: string;
  intendedTier: IntendedTier;
  contractValueUsd: number;
  monthlyUsage: number;
  criticality: Criticality;
  strategic: boolean;
  businessCritical: boolean;
  region: string;
  timezone: string;
  utcOffsetHours: number;
  csm?: Contact;
  technicalContacts: Contact[];
  businessContacts: Contact[];
  // telemetry model
  requestsPer5m: number;
  errorRate: number;
  latencyMs: number;
  quotaBase: number;
  integrationRate: number;
  authRate: number;
}

export interface Incident {
  type: IncidentType;
  account: string;
  tier: IntendedTier;
  onsetMs: number;
  /** when the customer would notice (the metric crosses the customer-impact level) */
  visibleMs: number;
  endMs: number;
  description: string;
}

export interface FleetOptions {
  accounts: number;
  days: number;
  seed: number;
  /** end of the generated history (exclusive), ms; aligned down to the step */
  endMs: number;
  stepMs?: number;
}

export interface Fleet {
  accounts: DemoAccount[];
  incidents: Incident[];
  startMs: number;
  stepMs: number;
  ticks: number;
  /** line protocol (precision s) for every account at tick i */
  linesAt(tick: number): string;
}

/** A small, fast, seedable PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** region, its users' UTC offset in hours (northern winter), and the IANA zone registered for it */
const REGIONS: Array<[string, number, string]> = [
  ['us-east', -5, 'America/New_York'],
  ['us-west', -8, 'America/Los_Angeles'],
  ['eu-west', 0, 'Europe/London'],
  ['eu-central', 1, 'Europe/Berlin'],
  ['ap-southeast', 8, 'Asia/Singapore'],
];
const NAMES = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Stark',
  'Wayne',
  'Tyrell',
  'Cyberdyne',
  'Soylent',
  'Wonka',
  'Vandelay',
  'Pied Piper',
  'Aperture',
  'Massive Dynamic',
  'Gringotts',
  'Oscorp',
  'Nakatomi',
  'Dunder Mifflin',
  'Prestige',
];
const SUFFIX = ['Corp', 'Labs', 'Systems', 'Retail', 'Health', 'Logistics', 'Media', 'Bank', 'Travel', 'Energy', 'Foods'];
const CSMS: Contact[] = [
  { name: 'Dana Whitfield', email: 'dana.whitfield@forewarn-demo.example' },
  { name: 'Luis Ortega', email: 'luis.ortega@forewarn-demo.example' },
  { name: 'Priya Raman', email: 'priya.raman@forewarn-demo.example' },
  { name: 'Tom Becker', email: 'tom.becker@forewarn-demo.example' },
];

function gauss(r: () => number): number {
  // Box-Muller; one value per call is enough here
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

function poisson(r: () => number, lambda: number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss(r)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= r();
  } while (p > l);
  return k - 1;
}

function tierFor(i: number, n: number): IntendedTier {
  const f = i / n;
  if (f < 0.06) return 'strategic';
  if (f < 0.2) return 'enterprise';
  if (f < 0.5) return 'growth';
  return 'self-serve';
}

function makeAccount(i: number, n: number, r: () => number): DemoAccount {
  const tier = tierFor(i, n);
  const [region, offset, timezone] = REGIONS[Math.floor(r() * REGIONS.length)]!;
  const base = `${NAMES[i % NAMES.length]} ${SUFFIX[Math.floor(i / NAMES.length) % SUFFIX.length]}`;
  const id = `${base.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${String(i).padStart(3, '0')}`;
  const domain = `${id}.example`;
  const between = (lo: number, hi: number) => lo + (hi - lo) * r();
  const spec = {
    strategic: {
      cv: between(500_000, 2_000_000),
      usage: between(50e6, 200e6),
      crit: 'mission_critical' as Criticality,
      rps: between(20_000, 60_000),
    },
    enterprise: { cv: between(100_000, 450_000), usage: between(5e6, 40e6), crit: 'high' as Criticality, rps: between(5_000, 20_000) },
    growth: { cv: between(10_000, 90_000), usage: between(2e5, 9e5), crit: 'medium' as Criticality, rps: between(600, 5_000) },
    'self-serve': { cv: between(0, 9_000), usage: between(1e4, 9e5), crit: 'low' as Criticality, rps: between(80, 600) },
  }[tier];
  const acct: DemoAccount = {
    id,
    name: base,
    intendedTier: tier,
    contractValueUsd: Math.round(spec.cv),
    monthlyUsage: Math.round(spec.usage),
    criticality: spec.crit,
    strategic: tier === 'strategic',
    businessCritical: (tier === 'strategic' || tier === 'enterprise') && r() < 0.5,
    region,
    timezone,
    utcOffsetHours: offset,
    technicalContacts: [{ name: 'Platform Team', email: `platform@${domain}` }],
    businessContacts: tier === 'self-serve' ? [] : [{ name: 'Operations', email: `ops@${domain}` }],
    requestsPer5m: spec.rps,
    errorRate: between(0.002, 0.008),
    latencyMs: between(120, 380),
    quotaBase: between(0.3, 0.55),
    integrationRate: between(0.05, 0.4),
    authRate: between(0.3, 2),
  };
  if (tier !== 'self-serve') acct.csm = CSMS[i % CSMS.length]!;
  return acct;
}

/** Fraction of peak load at a local time: business hours peak, quiet nights, light weekends. */
function loadFactor(tsMs: number, offsetHours: number): number {
  const local = tsMs + offsetHours * 3_600_000;
  const hour = (local / 3_600_000) % 24;
  const dow = new Date(local).getUTCDay(); // 0 Sunday
  const daily = 0.25 + 0.75 * Math.exp(-((hour - 14) ** 2) / (2 * 3.2 ** 2));
  const weekly = dow === 0 || dow === 6 ? 0.45 : dow === 1 ? 1.08 : 1;
  return daily * weekly;
}

interface Effects {
  latencyMul: number;
  errorRate: number | undefined;
  requestsMul: number;
  integrationExtra: number;
  quotaOverride: number | undefined;
  authExtra: number;
}

const HOUR = 3_600_000;

function ramp(t: number, start: number, durationMs: number): number {
  return Math.min(1, Math.max(0, (t - start) / durationMs));
}

/** Builds incidents: one of each type for one account of each tier, spread over the second half. */
function makeIncidents(accounts: DemoAccount[], startMs: number, endMs: number, r: () => number): Incident[] {
  const out: Incident[] = [];
  const byTier = new Map<IntendedTier, DemoAccount[]>();
  for (const a of accounts) {
    const list = byTier.get(a.intendedTier) ?? [];
    list.push(a);
    byTier.set(a.intendedTier, list);
  }
  const used = new Set<string>();
  const earliest = startMs + Math.max(8 * 24 * HOUR, (endMs - startMs) * 0.55);
  for (const type of INCIDENT_TYPES) {
    for (const tier of ['strategic', 'enterprise', 'growth', 'self-serve'] as const) {
      const pool = (byTier.get(tier) ?? []).filter((a) => !used.has(a.id));
      if (pool.length === 0) continue;
      const a = pool[Math.floor(r() * pool.length)]!;
      used.add(a.id);
      const span = type === 'quota_exhaustion' ? 3.5 * 24 * HOUR : 30 * HOUR;
      const latest = endMs - span;
      // onsets on business days, 08:00-16:00 local time: when changes ship and problems start
      const offsetMs = a.utcOffsetHours * HOUR;
      const days = Math.max(1, Math.floor((latest - earliest) / (24 * HOUR)));
      let localDay = Math.floor((earliest + offsetMs) / (24 * HOUR)) + Math.floor(r() * days);
      while ([0, 6].includes(new Date(localDay * 24 * HOUR).getUTCDay())) localDay += 1;
      let onset = localDay * 24 * HOUR - offsetMs + (8 + r() * 8) * HOUR;
      if (onset > latest) onset -= 7 * 24 * HOUR;
      onset = Math.floor(onset / (5 * 60_000)) * 5 * 60_000;
      out.push(incident(type, a, onset));
    }
  }
  return out;
}

function incident(type: IncidentType, a: DemoAccount, onset: number): Incident {
  const base = { type, account: a.id, tier: a.intendedTier, onsetMs: onset };
  switch (type) {
    case 'latency_creep':
      // p95 rises linearly to 3x over 16 h; customers notice at 2x
      return { ...base, visibleMs: onset + 8 * HOUR, endMs: onset + 22 * HOUR, description: 'p95 latency creeping up to 3x over 16 h' };
    case 'error_rate_rise':
      // error rate climbs to 12% over 4 h; customers notice at 5%
      return {
        ...base,
        visibleMs: onset + Math.round(((0.05 - a.errorRate) / (0.12 - a.errorRate)) * 4 * HOUR),
        endMs: onset + 8 * HOUR,
        description: 'error rate rising to 12% over 4 h',
      };
    case 'usage_collapse':
      // a faulty client rollout: traffic falls to 15% over 3 h; the customer notices at -50%
      return {
        ...base,
        visibleMs: onset + Math.round((0.5 / 0.85) * 3 * HOUR),
        endMs: onset + 10 * HOUR,
        description: 'API traffic collapsing to 15% over 3 h',
      };
    case 'integration_failures':
      // webhook deliveries failing more and more over 3 h; customers notice at 12 per 5 min
      return {
        ...base,
        visibleMs: onset + Math.round((12 / 40) * 3 * HOUR),
        endMs: onset + 8 * HOUR,
        description: 'integration (webhook) failures rising to 40 per 5 min',
      };
    case 'quota_exhaustion':
      // plan quota use climbing towards the limit over 3 days; throttling starts at 100%
      return {
        ...base,
        visibleMs: onset + 3 * 24 * HOUR,
        endMs: onset + 3 * 24 * HOUR + 6 * HOUR,
        description: 'quota use climbing to 100% of the plan over 3 days',
      };
    case 'auth_attack':
      // credential stuffing ramping up over 2 h; lockouts hit real users at ~60 failures per 5 min
      return {
        ...base,
        visibleMs: onset + Math.round((60 / 300) * 2 * HOUR),
        endMs: onset + 5 * HOUR,
        description: 'failed logins ramping to 300 per 5 min (credential stuffing)',
      };
  }
}

function effectsAt(a: DemoAccount, incidents: readonly Incident[], t: number): Effects {
  const e: Effects = { latencyMul: 1, errorRate: undefined, requestsMul: 1, integrationExtra: 0, quotaOverride: undefined, authExtra: 0 };
  for (const inc of incidents) {
    if (t < inc.onsetMs || t >= inc.endMs) continue;
    switch (inc.type) {
      case 'latency_creep':
        e.latencyMul = 1 + 2 * ramp(t, inc.onsetMs, 16 * HOUR);
        break;
      case 'error_rate_rise':
        e.errorRate = a.errorRate + (0.12 - a.errorRate) * ramp(t, inc.onsetMs, 4 * HOUR);
        break;
      case 'usage_collapse':
        e.requestsMul = 1 - 0.85 * ramp(t, inc.onsetMs, 3 * HOUR);
        break;
      case 'integration_failures':
        e.integrationExtra = 40 * ramp(t, inc.onsetMs, 3 * HOUR);
        break;
      case 'quota_exhaustion':
        e.quotaOverride = a.quotaBase + (1.0 - a.quotaBase) * ramp(t, inc.onsetMs, 3 * 24 * HOUR);
        break;
      case 'auth_attack':
        e.authExtra = 300 * ramp(t, inc.onsetMs, 2 * HOUR);
        break;
    }
  }
  return e;
}

/** The JSON body of `PUT /api/accounts/:id` that registers a demo account. */
export function accountBody(a: DemoAccount): Record<string, unknown> {
  return {
    name: a.name,
    contract_value_usd: a.contractValueUsd,
    monthly_usage: a.monthlyUsage,
    criticality: a.criticality,
    strategic: a.strategic,
    business_critical: a.businessCritical,
    ...(a.csm ? { csm: a.csm } : {}),
    technical_contacts: a.technicalContacts,
    business_contacts: a.businessContacts,
    region: a.region,
    timezone: a.timezone,
  };
}

/** Generates the fleet; the same options always give the same data. */
export function generateFleet(options: FleetOptions): Fleet {
  const stepMs = options.stepMs ?? 5 * 60_000;
  const r = rng(options.seed);
  const endMs = Math.floor(options.endMs / stepMs) * stepMs;
  const ticks = Math.floor((options.days * 24 * HOUR) / stepMs);
  const startMs = endMs - ticks * stepMs;
  const accounts = Array.from({ length: options.accounts }, (_, i) => makeAccount(i, options.accounts, r));
  // users live by their zone's offset at the time of the data (daylight saving included)
  for (const a of accounts) a.utcOffsetHours = utcOffsetMinutes(a.timezone, endMs) / 60;
  // (incidents are placed in each account's local business hours, so after the offsets)
  const incidents = makeIncidents(accounts, startMs, endMs, r);
  const byAccount = new Map<string, Incident[]>();
  for (const inc of incidents) byAccount.set(inc.account, [...(byAccount.get(inc.account) ?? []), inc]);
  const noise = rng(options.seed ^ 0x5eed);

  return {
    accounts,
    incidents,
    startMs,
    stepMs,
    ticks,
    linesAt(tick) {
      const t = startMs + tick * stepMs;
      const sec = Math.floor(t / 1000);
      let out = '';
      for (const a of accounts) {
        const e = effectsAt(a, byAccount.get(a.id) ?? [], t);
        const load = loadFactor(t, a.utcOffsetHours);
        const requests = Math.max(0, poisson(noise, a.requestsPer5m * load * e.requestsMul * (1 + 0.04 * gauss(noise))));
        const errors = poisson(noise, requests * (e.errorRate ?? a.errorRate));
        const latency = a.latencyMs * (0.85 + 0.3 * load) * e.latencyMul * Math.exp(0.06 * gauss(noise));
        const integration = poisson(noise, a.integrationRate * (0.5 + load) + e.integrationExtra);
        // quota: share of the monthly plan used, a slow daily wander around the account's level
        const quota = e.quotaOverride ?? a.quotaBase + 0.03 * Math.sin((2 * Math.PI * (t - startMs)) / (24 * HOUR)) + 0.005 * gauss(noise);
        const auth = poisson(noise, a.authRate * (0.3 + load) + e.authExtra);
        out +=
          `api,account=${a.id},region=${a.region} requests=${requests}i,errors=${errors}i,latency_p95_ms=${latency.toFixed(1)} ${sec}\n` +
          `integration,account=${a.id} failures=${integration}i ${sec}\n` +
          `quota,account=${a.id} used_ratio=${quota.toFixed(4)} ${sec}\n` +
          `auth,account=${a.id} failures=${auth}i ${sec}\n`;
      }
      return out;
    },
  };
}
