/**
 * Server settings from the environment: defaults, each variable's parsing, errors that name the
 * variable (and never echo a token), token parsing, and the loopback-only rule without tokens.
 */
import { describe, expect, it } from 'vitest';
import { EnvError, loadServerConfig, parseTokens } from './server-config.ts';

const TOKENS = 'admin:admin-secret-1,ingest:ingest-secret-1,read:read-secret-1';

/** The EnvError thrown by `fn`, or a failure when it does not throw one. */
function envError(fn: () => unknown): EnvError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return err as EnvError;
  }
  throw new Error('expected an EnvError, nothing was thrown');
}

describe('loadServerConfig defaults', () => {
  it('an empty environment gives a loopback server on 8086 with safe defaults', () => {
    const c = loadServerConfig({});
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 8086,
      publicUrl: 'http://127.0.0.1:8086',
      dataDir: './data',
      rulesDir: './rules',
      mailFrom: 'Forewarn <forewarn@localhost>',
      tokens: new Map(),
      accountTag: 'account',
      strictAccounts: false,
      maxBodyBytes: 32 * 1024 * 1024,
      maxFutureMs: 600_000,
      maxSeriesPerAccount: 1000,
      retentionMs: 35 * 86_400_000,
      sqliteSync: 'full',
    });
    expect('smtpUrl' in c).toBe(false);
  });

  it('empty strings count as unset', () => {
    expect(loadServerConfig({ PORT: '', FOREWARN_HOST: '', SMTP_URL: '', FOREWARN_STRICT_ACCOUNTS: '', FOREWARN_TOKENS: ' ' })).toEqual(
      loadServerConfig({}),
    );
  });

  it('with tokens the default host is every interface and links point at localhost', () => {
    const c = loadServerConfig({ FOREWARN_TOKENS: TOKENS, PORT: '9000' });
    expect(c.host).toBe('0.0.0.0');
    expect(c.publicUrl).toBe('http://localhost:9000');
  });

  it('reads every variable', () => {
    const c = loadServerConfig({
      FOREWARN_TOKENS: TOKENS,
      FOREWARN_HOST: '10.0.0.5',
      PORT: ' 8123 ',
      FOREWARN_PUBLIC_URL: 'https://forewarn.example.com/',
      FOREWARN_DATA_DIR: '/var/lib/forewarn',
      FOREWARN_RULES_DIR: '/etc/forewarn/rules',
      SMTP_URL: 'smtps://user:pw@mail.example.com:465',
      FOREWARN_MAIL_FROM: 'Support <support@example.com>',
      FOREWARN_ACCOUNT_TAG: 'tenant_id',
      FOREWARN_STRICT_ACCOUNTS: 'yes',
      FOREWARN_MAX_BODY_BYTES: '2048',
      FOREWARN_MAX_FUTURE_SECONDS: '30',
      FOREWARN_MAX_SERIES_PER_ACCOUNT: '50',
      FOREWARN_RETENTION_DAYS: '7',
      FOREWARN_SQLITE_SYNC: 'NORMAL',
    });
    expect(c).toMatchObject({
      host: '10.0.0.5',
      port: 8123,
      publicUrl: 'https://forewarn.example.com',
      dataDir: '/var/lib/forewarn',
      rulesDir: '/etc/forewarn/rules',
      smtpUrl: 'smtps://user:pw@mail.example.com:465',
      mailFrom: 'Support <support@example.com>',
      accountTag: 'tenant_id',
      strictAccounts: true,
      maxBodyBytes: 2048,
      maxFutureMs: 30_000,
      maxSeriesPerAccount: 50,
      retentionMs: 7 * 86_400_000,
      sqliteSync: 'normal',
    });
    expect([...c.tokens.values()].sort()).toEqual(['admin', 'ingest', 'read']);
  });
});

describe('loadServerConfig errors name the variable', () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ['PORT', { PORT: 'http' }, /expected an integer, got "http"/],
    ['PORT', { PORT: '65536' }, /between 0 and 65535, got 65536/],
    ['PORT', { PORT: '-1' }, /expected an integer/],
    ['PORT', { PORT: '80.5' }, /expected an integer/],
    ['FOREWARN_MAX_BODY_BYTES', { FOREWARN_MAX_BODY_BYTES: '100' }, /between 1024 and/],
    ['FOREWARN_MAX_BODY_BYTES', { FOREWARN_MAX_BODY_BYTES: '1e6' }, /expected an integer/],
    ['FOREWARN_MAX_FUTURE_SECONDS', { FOREWARN_MAX_FUTURE_SECONDS: 'ten' }, /expected an integer/],
    ['FOREWARN_MAX_SERIES_PER_ACCOUNT', { FOREWARN_MAX_SERIES_PER_ACCOUNT: '0' }, /between 1 and/],
    ['FOREWARN_RETENTION_DAYS', { FOREWARN_RETENTION_DAYS: '0' }, /between 1 and 36500/],
    ['FOREWARN_STRICT_ACCOUNTS', { FOREWARN_STRICT_ACCOUNTS: 'maybe' }, /expected true or false, got "maybe"/],
    ['SMTP_URL', { SMTP_URL: 'http://mail:25' }, /expected smtp:\/\/host:port or smtps:\/\/host:port/],
    ['FOREWARN_SQLITE_SYNC', { FOREWARN_SQLITE_SYNC: 'off' }, /expected full or normal, got "off"/],
    ['FOREWARN_ACCOUNT_TAG', { FOREWARN_ACCOUNT_TAG: 'account id' }, /not a valid tag key/],
    ['FOREWARN_ACCOUNT_TAG', { FOREWARN_ACCOUNT_TAG: '1tenant' }, /not a valid tag key/],
    ['FOREWARN_HOST', { FOREWARN_HOST: '0.0.0.0' }, /needs FOREWARN_TOKENS/],
    ['FOREWARN_HOST', { FOREWARN_HOST: '192.168.1.10' }, /needs FOREWARN_TOKENS/],
    ['FOREWARN_HOST', { FOREWARN_HOST: '::' }, /needs FOREWARN_TOKENS/],
    ['FOREWARN_TOKENS', { FOREWARN_TOKENS: 'admin' }, /entry 1 must look like role:token/],
    // links in every email are built on it: a value without a scheme gives broken links
    ['FOREWARN_PUBLIC_URL', { FOREWARN_PUBLIC_URL: 'forewarn.example.com' }, /forewarn\.example\.com/],
  ])('%s in %j', (variable, env, message) => {
    const err = envError(() => loadServerConfig(env));
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['YES', true],
    [' on ', true],
    ['0', false],
    ['False', false],
    ['no', false],
    ['off', false],
  ])('FOREWARN_STRICT_ACCOUNTS=%j -> %s', (raw, want) => {
    expect(loadServerConfig({ FOREWARN_STRICT_ACCOUNTS: raw }).strictAccounts).toBe(want);
  });
});

describe('loopback only without tokens', () => {
  it.each(['127.0.0.1', 'localhost', '::1'])('FOREWARN_HOST=%s without tokens is allowed', (host) => {
    const c = loadServerConfig({ FOREWARN_HOST: host });
    expect(c.host).toBe(host);
    expect(c.tokens.size).toBe(0);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10'])('FOREWARN_HOST=%s with tokens is allowed', (host) => {
    expect(loadServerConfig({ FOREWARN_HOST: host, FOREWARN_TOKENS: TOKENS }).host).toBe(host);
  });

  it.each([
    ['::1', {}],
    ['::', { FOREWARN_TOKENS: TOKENS }],
  ])('the default public URL for FOREWARN_HOST=%s is a valid URL (emails link to it)', (host, extra) => {
    const c = loadServerConfig({ FOREWARN_HOST: host, ...extra });
    expect(() => new URL(c.publicUrl)).not.toThrow();
  });
});

describe('parseTokens', () => {
  it('maps each token to its role; blanks around entries and empty entries are ignored', () => {
    const t = parseTokens(' admin:aaaaaaaa , ,read:bbbbbbbb,ingest:cc:cccccc ');
    expect([...t.entries()]).toEqual([
      ['aaaaaaaa', 'admin'],
      ['bbbbbbbb', 'read'],
      ['cc:cccccc', 'ingest'],
    ]);
  });

  it.each([undefined, '', '   '])('%j -> no tokens', (raw) => {
    expect(parseTokens(raw).size).toBe(0);
  });

  it.each([
    ['no colon', 'read:bbbbbbbb,secretsecret', /entry 2 must look like role:token/],
    ['empty role', ':secretsecret', /entry 1 must look like role:token/],
    ['empty token', 'admin:', /entry 1 must look like role:token/],
    ['unknown role', 'root:secretsecret', /entry 1: unknown role "root" \(admin, ingest or read\)/],
    ['short token', 'admin:secret7', /entry 1: token must be at least 8 characters/],
  ])('%s is an error naming the variable and the entry, without the token', (_name, raw, message) => {
    const err = envError(() => parseTokens(raw, 'MY_TOKENS'));
    expect(err.variable).toBe('MY_TOKENS');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('secret');
  });
});
