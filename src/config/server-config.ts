/**
 * Server settings from environment variables, read and validated once at start. A wrong value
 * is an error naming the variable; nothing reads process.env after this.
 */

export type Role = 'admin' | 'ingest' | 'read';

export interface ServerConfig {
  host: string;
  port: number;
  /** public base URL used in links inside emails */
  publicUrl: string;
  dataDir: string;
  rulesDir: string;
  /** smtp:// or smtps:// URL; undefined: emails are written as .eml files under dataDir/outbox */
  smtpUrl?: string;
  mailFrom: string;
  /** bearer token -> role; empty: no auth, loopback only */
  tokens: ReadonlyMap<string, Role>;
  accountTag: string;
  strictAccounts: boolean;
  maxBodyBytes: number;
  maxFutureMs: number;
  maxSeriesPerAccount: number;
  retentionMs: number;
  /** fsync every ingest commit (full) or rely on the WAL (normal) */
  sqliteSync: 'full' | 'normal';
  /** the time-series server, when FOREWARN_STORE=influx; unset: the embedded store */
  influx?: InfluxConfig;
}

/** A time-series server speaking the InfluxDB v2 write API (FOREWARN_STORE=influx). */
export interface InfluxConfig {
  /** INFLUX_URL: base URL of the write API */
  url: string;
  /** INFLUX_TOKEN */
  token?: string;
  /** INFLUX_ORG (default forewarn; VictoriaMetrics ignores it) */
  org: string;
  /** INFLUX_BUCKET (default forewarn; VictoriaMetrics ignores it) */
  bucket: string;
  /** FOREWARN_QUERY_URL: Prometheus-compatible query API (default: INFLUX_URL) */
  queryUrl: string;
  /** FOREWARN_SPOOL_DIR: local spool of points not yet acknowledged by the server (default <dataDir>/spool) */
  spoolDir: string;
}

function httpUrl(env: Env, name: string, example: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let ok = false;
  try {
    const u = new URL(raw);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    ok = false;
  }
  if (!ok) throw new EnvError(name, `expected an http(s) URL without credentials such as ${example}, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

function influxConfig(env: Env, dataDir: string): InfluxConfig | undefined {
  const kind = (env.FOREWARN_STORE?.trim() || 'embedded').toLowerCase();
  if (kind !== 'embedded' && kind !== 'influx')
    throw new EnvError('FOREWARN_STORE', `expected embedded or influx, got "${env.FOREWARN_STORE}"`);
  if (kind === 'embedded') return undefined;
  const url = httpUrl(env, 'INFLUX_URL', 'http://127.0.0.1:8428');
  if (url === undefined) {
    throw new EnvError(
      'INFLUX_URL',
      'FOREWARN_STORE=influx needs the write URL of the time-series server, e.g. http://127.0.0.1:8428 (VictoriaMetrics)',
    );
  }
  const c: InfluxConfig = {
    url,
    org: env.INFLUX_ORG?.trim() || 'forewarn',
    bucket: env.INFLUX_BUCKET?.trim() || 'forewarn',
    queryUrl: httpUrl(env, 'FOREWARN_QUERY_URL', 'http://127.0.0.1:8428') ?? url,
    spoolDir: env.FOREWARN_SPOOL_DIR?.trim() || `${dataDir.replace(/\/+$/, '')}/spool`,
  };
  const token = env.INFLUX_TOKEN?.trim();
  if (token) c.token = token;
  return c;
}

/** An environment variable with a wrong value. */
export class EnvError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'EnvError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new EnvError(name, `expected an integer, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new EnvError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new EnvError(name, `expected true or false, got "${raw}"`);
}

/** Parses `role:token,role:token`. */
export function parseTokens(raw: string | undefined, name = 'FOREWARN_TOKENS'): Map<string, Role> {
  const tokens = new Map<string, Role>();
  if (!raw || raw.trim() === '') return tokens;
  for (const [i, part] of raw.split(',').entries()) {
    const item = part.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    const role = item.slice(0, colon);
    const token = item.slice(colon + 1);
    // never echo the entry: without a colon it is most likely a bare secret
    if (colon <= 0 || token === '') {
      throw new EnvError(name, `entry ${i + 1} must look like role:token (${colon < 0 ? 'no ":" found' : 'empty role or token'})`);
    }
    if (role !== 'admin' && role !== 'ingest' && role !== 'read') {
      throw new EnvError(name, `entry ${i + 1}: unknown role "${role}" (admin, ingest or read)`);
    }
    if (token.length < 8) throw new EnvError(name, `entry ${i + 1}: token must be at least 8 characters`);
    tokens.set(token, role);
  }
  return tokens;
}

/** Reads the server settings; throws EnvError naming the first bad variable. */
export function loadServerConfig(env: Env = process.env): ServerConfig {
  const tokens = parseTokens(env.FOREWARN_TOKENS);
  const host = env.FOREWARN_HOST?.trim() || (tokens.size === 0 ? '127.0.0.1' : '0.0.0.0');
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  if (tokens.size === 0 && !loopback) {
    throw new EnvError('FOREWARN_HOST', `listening on ${host} needs FOREWARN_TOKENS (without tokens the server only listens on loopback)`);
  }
  const port = int(env, 'PORT', 8086, 0, 65535);
  const smtpUrl = env.SMTP_URL?.trim() || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) {
    throw new EnvError('SMTP_URL', `expected smtp://host:port or smtps://host:port, got "${smtpUrl}"`);
  }
  const sync = (env.FOREWARN_SQLITE_SYNC?.trim() || 'full').toLowerCase();
  if (sync !== 'full' && sync !== 'normal') throw new EnvError('FOREWARN_SQLITE_SYNC', `expected full or normal, got "${sync}"`);
  const accountTag = env.FOREWARN_ACCOUNT_TAG?.trim() || 'account';
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(accountTag)) throw new EnvError('FOREWARN_ACCOUNT_TAG', `not a valid tag key: "${accountTag}"`);
  const linkHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const publicRaw = env.FOREWARN_PUBLIC_URL?.trim();
  if (publicRaw) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(publicRaw).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new EnvError('FOREWARN_PUBLIC_URL', `expected an http(s) URL such as https://forewarn.example.com, got "${publicRaw}"`);
  }
  const config: ServerConfig = {
    host,
    port,
    publicUrl: (publicRaw || `http://${linkHost}:${port}`).replace(/\/+$/, ''),
    dataDir: env.FOREWARN_DATA_DIR?.trim() || './data',
    rulesDir: env.FOREWARN_RULES_DIR?.trim() || './rules',
    mailFrom: env.FOREWARN_MAIL_FROM?.trim() || 'Forewarn <forewarn@localhost>',
    tokens,
    accountTag,
    strictAccounts: bool(env, 'FOREWARN_STRICT_ACCOUNTS', false),
    maxBodyBytes: int(env, 'FOREWARN_MAX_BODY_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxFutureMs: int(env, 'FOREWARN_MAX_FUTURE_SECONDS', 600, 0, 366 * 86400) * 1000,
    maxSeriesPerAccount: int(env, 'FOREWARN_MAX_SERIES_PER_ACCOUNT', 1000, 1, 10_000_000),
    retentionMs: int(env, 'FOREWARN_RETENTION_DAYS', 35, 1, 36500) * 86_400_000,
    sqliteSync: sync,
  };
  if (smtpUrl !== undefined) config.smtpUrl = smtpUrl;
  const influx = influxConfig(env, config.dataDir);
  if (influx !== undefined) config.influx = influx;
  return config;
}
