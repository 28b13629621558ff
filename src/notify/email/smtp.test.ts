import { createServer, type AddressInfo, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { email, notifierContract, parseRawMessage } from '../contract.ts';
import { createSmtpNotifier, messageIdFor, validateSmtpUrl } from './smtp.ts';

/** A real SMTP server on 127.0.0.1 (free port) that keeps what it receives. */
interface TestSmtp {
  port: number;
  received: { raw: string; rcpt: string[] }[];
  /** how the next message's recipients are answered */
  failNext: 550 | 451 | undefined;
  /** how many connections are open right now */
  connections(): number;
  close(): Promise<void>;
}

const USER = 'forewarn@ops';
const PASS = 'p:ss/w@rd';
const CREDENTIALS = `${encodeURIComponent(USER)}:${encodeURIComponent(PASS)}`;

async function startSmtp(extra: SMTPServerOptions = {}): Promise<TestSmtp> {
  const failBySession = new Map<string, 550 | 451>();
  const state: TestSmtp = {
    port: 0,
    received: [],
    failNext: undefined,
    connections: () => server.connections.size,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === USER && auth.password === PASS) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('invalid credentials'), { responseCode: 535 }));
    },
    onMailFrom(_address, session, cb) {
      if (state.failNext) failBySession.set(session.id, state.failNext);
      state.failNext = undefined;
      cb();
    },
    onRcptTo(_address, session, cb) {
      const code = failBySession.get(session.id);
      if (code === 550) cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      else if (code === 451) cb(Object.assign(new Error('try again later'), { responseCode: 451 }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const rcpt = session.envelope.rcptTo.map((a) => a.address);
        state.received.push({ raw: Buffer.concat(chunks).toString('utf8'), rcpt });
        cb();
      });
    },
    ...extra,
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  state.port = (server.server.address() as AddressInfo).port;
  return state;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

notifierContract('smtp', async () => {
  const server = await startSmtp();
  const notifier = createSmtpNotifier({ url: `smtp://${CREDENTIALS}@127.0.0.1:${server.port}`, from: 'forewarn@example.com' });
  return {
    notifier,
    mime: true,
    delivered: async () => server.received.map((m) => parseRawMessage(m.raw, m.rcpt)),
    failNext: (kind) => {
      server.failNext = kind === 'permanent' ? 550 : 451;
    },
    close: async () => {
      await notifier.close();
      await server.close();
    },
  };
});

describe('smtp notifier', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function serverAndNotifier(url: (port: number) => string, opts: { server?: SMTPServerOptions; pool?: boolean } = {}) {
    const server = await startSmtp(opts.server);
    cleanup.push(() => server.close());
    const notifier = createSmtpNotifier({
      url: url(server.port),
      from: 'forewarn@example.com',
      ...(opts.pool !== undefined ? { pool: opts.pool } : {}),
    });
    cleanup.push(() => notifier.close());
    return { server, notifier };
  }

  it.each([
    { code: 550, retryable: false },
    { code: 451, retryable: true },
  ] as const)('server answers RCPT with $code => {ok:false, retryable:$retryable}', async ({ code, retryable }) => {
    const { server, notifier } = await serverAndNotifier((p) => `smtp://${CREDENTIALS}@127.0.0.1:${p}`);
    server.failNext = code;
    const result = await notifier.send(email());
    expect(result).toMatchObject({ ok: false, retryable });
    expect(!result.ok && result.error).toContain(String(code));
  });

  it('unreachable port => retryable failure, no throw', async () => {
    const port = await closedPort();
    const notifier = createSmtpNotifier({ url: `smtp://127.0.0.1:${port}`, from: 'forewarn@example.com' });
    cleanup.push(() => notifier.close());
    const result = await notifier.send(email());
    expect(result).toMatchObject({ ok: false, retryable: true });
  });

  it('server that never greets => retryable timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const notifier = createSmtpNotifier({ url: `smtp://127.0.0.1:${port}`, from: 'forewarn@example.com', greetingTimeoutMs: 100 });
    cleanup.push(() => notifier.close());
    const result = await notifier.send(email());
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(!result.ok && result.error).toContain('ETIMEDOUT');
  });

  it('wrong password (535) => retryable: the operator fixes the credentials, the advisory waits', async () => {
    const { server, notifier } = await serverAndNotifier((p) => `smtp://${encodeURIComponent(USER)}:wrong@127.0.0.1:${p}`);
    const result = await notifier.send(email());
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(server.received).toHaveLength(0);
  });

  it('smtps:// speaks TLS from the first byte (url query reaches nodemailer)', async () => {
    const { server, notifier } = await serverAndNotifier((p) => `smtps://${CREDENTIALS}@127.0.0.1:${p}?tls.rejectUnauthorized=false`, {
      server: { secure: true, disabledCommands: [] },
    });
    expect(await notifier.send(email())).toEqual({ ok: true });
    expect(server.received).toHaveLength(1);
  });

  it('email without from => the notifier from is the sender', async () => {
    const { server, notifier } = await serverAndNotifier((p) => `smtp://${CREDENTIALS}@127.0.0.1:${p}`);
    await notifier.send(email({ from: '' }));
    expect(server.received[0] && parseRawMessage(server.received[0].raw).headers.from).toBe('forewarn@example.com');
  });

  it('pool: true => several emails over one connection', async () => {
    const { server, notifier } = await serverAndNotifier((p) => `smtp://${CREDENTIALS}@127.0.0.1:${p}`, { pool: true });
    const results = await Promise.all([1, 2, 3].map((i) => notifier.send(email({ id: `adv-${i}` }))));
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(server.received.map((m) => parseRawMessage(m.raw).messageId).sort()).toEqual([
      '<adv-1@forewarn>',
      '<adv-2@forewarn>',
      '<adv-3@forewarn>',
    ]);
  });

  it.each([
    ['empty', ''],
    ['not a url', 'localhost:25'],
    ['wrong scheme', 'http://127.0.0.1:25'],
    ['no host', 'smtp://'],
    ['bad port', 'smtp://127.0.0.1:99999'],
  ])('invalid SMTP_URL (%s) => creation fails naming SMTP_URL', (_name, url) => {
    expect(() => createSmtpNotifier({ url, from: 'forewarn@example.com' })).toThrow(/SMTP_URL/);
  });

  it('invalid SMTP_URL error does not show the password', () => {
    expect(() => validateSmtpUrl('smtp://user:s3cret@host:99999')).toThrow(/user:\*\*\*@/);
    expect(() => validateSmtpUrl('smtp://user:s3cret@host:99999')).not.toThrow(/s3cret/);
  });

  it.each([
    ['adv-1', '<adv-1@forewarn>'],
    ['01HZX.abc_d', '<01HZX.abc_d@forewarn>'],
    ['a b<c>', `<${Buffer.from('a b<c>').toString('hex')}@forewarn>`],
    ['.leading', `<${Buffer.from('.leading').toString('hex')}@forewarn>`],
  ])('messageIdFor(%j) => %s', (id, expected) => {
    expect(messageIdFor(id)).toBe(expected);
  });
});
