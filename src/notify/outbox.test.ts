import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import type { Advisory } from '../domain/types.ts';
import type { StateStore } from '../store/state-store.ts';
import { createMetrics, type Metrics } from '../telemetry/metrics.ts';
import { createMemoryNotifier, type MemoryNotifier } from './memory.ts';
import { createOutbox, retryDelayMs, type Outbox, type OutboxOptions } from './outbox.ts';

/**
 * The outbox part of a StateStore, in memory (the SQLite store was not there yet when this was
 * written). Same semantics as the interface documents: every mark counts an attempt, an
 * undefined next attempt gives up, due = pending and next attempt <= now, oldest first.
 */
type TestStore = Pick<
  StateStore,
  'enqueueAdvisory' | 'dueAdvisories' | 'markAdvisorySent' | 'markAdvisoryFailed' | 'getAdvisory' | 'outboxDepth'
>;

function createTestStore(): TestStore {
  const rows = new Map<string, Advisory>();
  return {
    enqueueAdvisory(a) {
      if ([...rows.values()].some((r) => r.dedupKey === a.dedupKey)) return false;
      rows.set(a.id, structuredClone(a));
      return true;
    },
    dueAdvisories(nowWallMs, limit) {
      return [...rows.values()]
        .filter((a) => a.status === 'pending' && a.nextAttemptAtWallMs <= nowWallMs)
        .sort((a, b) => a.decidedAtWallMs - b.decidedAtWallMs || a.id.localeCompare(b.id))
        .slice(0, limit)
        .map((a) => structuredClone(a));
    },
    markAdvisorySent(id, sentAtWallMs) {
      const a = rows.get(id);
      if (!a) throw new Error(`no advisory ${id}`);
      Object.assign(a, { status: 'sent', sentAtWallMs, attempts: a.attempts + 1 });
    },
    markAdvisoryFailed(id, error, next) {
      const a = rows.get(id);
      if (!a) throw new Error(`no advisory ${id}`);
      a.attempts++;
      a.lastError = error;
      if (next === undefined) a.status = 'failed';
      else a.nextAttemptAtWallMs = next;
    },
    getAdvisory: (id) => structuredClone(rows.get(id)),
    outboxDepth: () => [...rows.values()].filter((a) => a.status === 'pending').length,
  };
}

const T0 = 1_700_000_000_000;
const BACKOFF = { baseMs: 1_000, maxMs: 60_000, maxAttempts: 5 };

function advisory(id: string, over: Partial<Advisory> = {}): Advisory {
  return {
    id,
    dedupKey: `key-${id}`,
    signalId: `sig-${id}`,
    account: 'acme',
    kind: 'technical_advisory',
    severity: 'warning',
    tier: 'gold',
    to: ['ops@acme.example'],
    subject: `subject ${id}`,
    text: `text ${id}`,
    html: `<p>html ${id}</p>`,
    decidedAtMs: T0,
    decidedAtWallMs: T0,
    status: 'pending',
    attempts: 0,
    nextAttemptAtWallMs: T0,
    ...over,
  };
}

interface Setup {
  store: TestStore;
  clock: ManualClock;
  notifier: MemoryNotifier;
  metrics: Metrics;
  outbox: Outbox;
  handoffs: [string, number][];
}

const outboxes: Outbox[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const o of outboxes.splice(0)) await o.stop();
});

function setup(over: Partial<OutboxOptions> & { store?: TestStore; notifier?: MemoryNotifier } = {}): Setup {
  const store = over.store ?? createTestStore();
  const clock = (over.clock as ManualClock | undefined) ?? new ManualClock(T0);
  const notifier = over.notifier ?? createMemoryNotifier();
  const metrics = createMetrics();
  const handoffs: [string, number][] = [];
  const outbox = createOutbox({
    store,
    notifier,
    clock,
    metrics,
    from: 'forewarn@example.com',
    backoff: BACKOFF,
    onSent: (a, at) => handoffs.push([a.id, at]),
    ...over,
  });
  outboxes.push(outbox);
  return { store, clock, notifier, metrics, outbox, handoffs };
}

/** Lets pending callbacks and promise chains run (no time passes on any clock). */
async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function gate(): { wait: () => Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const p = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => p, open };
}

async function counter(metric: { get(): Promise<{ values: { labels: object; value: number }[] }> }, labels: object): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value ?? 0;
}

describe('outbox', () => {
  it('pending=>sent: hands the advisory to the notifier, marks it, counts it, reports the hand-off', async () => {
    const s = setup();
    s.store.enqueueAdvisory(advisory('a1'));
    s.clock.advance(5);

    expect(await s.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });

    expect(s.notifier.sent).toEqual([
      {
        id: 'a1',
        from: 'forewarn@example.com',
        to: ['ops@acme.example'],
        subject: 'subject a1',
        text: 'text a1',
        html: '<p>html a1</p>',
        headers: {
          'X-Forewarn-Kind': 'technical_advisory',
          'X-Forewarn-Severity': 'warning',
          'X-Forewarn-Account': 'acme',
          'X-Forewarn-Signal': 'sig-a1',
        },
      },
    ]);
    expect(s.store.getAdvisory('a1')).toMatchObject({ status: 'sent', sentAtWallMs: T0 + 5 });
    expect(s.handoffs).toEqual([['a1', T0 + 5]]);
    expect(await counter(s.metrics.advisoriesSent, { kind: 'technical_advisory' })).toBe(1);
    expect((await s.metrics.outboxDepth.get()).values[0]?.value).toBe(0);
  });

  it('sends only what is due: a future next attempt waits', async () => {
    const s = setup();
    s.store.enqueueAdvisory(advisory('now'));
    s.store.enqueueAdvisory(advisory('later', { nextAttemptAtWallMs: T0 + 10_000 }));
    expect(await s.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(s.notifier.sent.map((e) => e.id)).toEqual(['now']);
  });

  it('sends every due advisory, more than one batch, each once', async () => {
    const s = setup({ batchSize: 3 });
    for (let i = 0; i < 8; i++) s.store.enqueueAdvisory(advisory(`a${i}`, { decidedAtWallMs: T0 + i }));
    s.clock.advance(10);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 8, failed: 0, retried: 0 });
    expect(s.notifier.sent.map((e) => e.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
  });

  it('pending=>retry=>retry=>sent: retryable failures are retried at base*2^attempt, not before', async () => {
    const s = setup();
    s.store.enqueueAdvisory(advisory('a1'));
    s.notifier.failNext(2, { retryable: true, error: '451 try later' });

    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    expect(s.store.getAdvisory('a1')).toMatchObject({
      status: 'pending',
      attempts: 1,
      nextAttemptAtWallMs: T0 + 1_000,
      lastError: '451 try later',
    });

    s.clock.set(T0 + 999);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    s.clock.set(T0 + 1_000);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    expect(s.store.getAdvisory('a1')?.nextAttemptAtWallMs).toBe(T0 + 1_000 + 2_000);

    s.clock.set(T0 + 2_999);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    s.clock.set(T0 + 3_000);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(s.notifier.attempts).toBe(3);
    expect(s.store.getAdvisory('a1')).toMatchObject({ status: 'sent', sentAtWallMs: T0 + 3_000 });
    expect(await counter(s.metrics.advisorySendFailures, { kind: 'technical_advisory', retryable: 'true' })).toBe(2);
  });

  it('pending=>failed: a permanent failure is not retried', async () => {
    const s = setup();
    s.store.enqueueAdvisory(advisory('a1'));
    s.notifier.failNext(1, { retryable: false, error: '550 no such mailbox' });

    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 1, retried: 0 });
    expect(s.store.getAdvisory('a1')).toMatchObject({ status: 'failed', lastError: '550 no such mailbox' });

    s.clock.advance(24 * 3_600_000);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(s.notifier.attempts).toBe(1);
    expect(await counter(s.metrics.advisorySendFailures, { kind: 'technical_advisory', retryable: 'false' })).toBe(1);
  });

  it('retry x(maxAttempts-1)=>failed: gives up after maxAttempts attempts in all', async () => {
    const s = setup({ backoff: { ...BACKOFF, maxAttempts: 3 } });
    s.store.enqueueAdvisory(advisory('a1'));
    s.notifier.failNext(10, { retryable: true });

    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    s.clock.advance(1_000);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    s.clock.advance(2_000);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 1, retried: 0 });
    expect(s.store.getAdvisory('a1')).toMatchObject({ status: 'failed', attempts: 3 });

    s.clock.advance(3_600_000);
    expect(await s.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(s.notifier.attempts).toBe(3);
    expect(await counter(s.metrics.advisorySendFailures, { kind: 'technical_advisory', retryable: 'true' })).toBe(2);
    expect(await counter(s.metrics.advisorySendFailures, { kind: 'technical_advisory', retryable: 'false' })).toBe(1);
  });

  it.each([
    { attempt: 0, delayMs: 1_000 },
    { attempt: 1, delayMs: 2_000 },
    { attempt: 4, delayMs: 16_000 },
    { attempt: 5, delayMs: 32_000 },
    { attempt: 6, delayMs: 60_000 },
    { attempt: 2_000, delayMs: 60_000 },
  ])('retryDelayMs: after attempt $attempt failed => wait $delayMs ms', ({ attempt, delayMs }) => {
    expect(retryDelayMs(attempt, BACKOFF)).toBe(delayMs);
  });

  it('a notifier that throws counts as a retryable failure and the drain goes on', async () => {
    const notifier = createMemoryNotifier({
      beforeSend: (e) => {
        if (e.id === 'bad') throw new Error('bug in notifier');
      },
    });
    const s = setup({ notifier });
    s.store.enqueueAdvisory(advisory('bad', { decidedAtWallMs: T0 - 1 }));
    s.store.enqueueAdvisory(advisory('good'));
    expect(await s.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 1 });
    expect(s.store.getAdvisory('bad')?.lastError).toContain('bug in notifier');
    expect((await s.metrics.outboxDepth.get()).values[0]?.value).toBe(1);
  });

  it('an onSent callback that throws does not undo the send', async () => {
    const errors: Error[] = [];
    const s = setup({
      onSent: () => {
        throw new Error('listener broke');
      },
      onError: (e) => errors.push(e),
    });
    s.store.enqueueAdvisory(advisory('a1'));
    expect(await s.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(s.store.getAdvisory('a1')?.status).toBe('sent');
    expect(errors.map((e) => e.message)).toEqual(['outbox: onSent failed for advisory a1']);
  });

  it('restart: a second worker on the same store does not resend what the first sent', async () => {
    const first = setup();
    first.store.enqueueAdvisory(advisory('a1'));
    first.store.enqueueAdvisory(advisory('a2', { nextAttemptAtWallMs: T0 + 60_000 }));
    await first.outbox.drainOnce();
    await first.outbox.stop();

    const second = setup({ store: first.store, clock: first.clock });
    first.clock.advance(60_000);
    expect(await second.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(first.notifier.sent.map((e) => e.id)).toEqual(['a1']);
    expect(second.notifier.sent.map((e) => e.id)).toEqual(['a2']);
  });

  it('restart: a retry scheduled by the first worker is kept by the second', async () => {
    const first = setup();
    first.store.enqueueAdvisory(advisory('a1'));
    first.notifier.failNext(1);
    await first.outbox.drainOnce();

    const second = setup({ store: first.store, clock: first.clock });
    expect(await second.outbox.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    first.clock.advance(1_000);
    expect(await second.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
  });

  it('crash between transport accept and mark: the advisory is sent again, with the same id (Message-ID)', async () => {
    const store = createTestStore();
    const crashing: TestStore = {
      ...store,
      markAdvisorySent: () => {
        throw new Error('process died');
      },
    };
    const first = setup({ store: crashing });
    store.enqueueAdvisory(advisory('a1'));
    await expect(first.outbox.drainOnce()).rejects.toThrow('process died');
    expect(first.notifier.sent.map((e) => e.id)).toEqual(['a1']);

    const second = setup({ store, clock: first.clock });
    expect(await second.outbox.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(second.notifier.sent.map((e) => e.id)).toEqual(['a1']);
    expect(store.getAdvisory('a1')?.status).toBe('sent');
  });

  it('drainOnce twice concurrently sends each advisory once', async () => {
    const hold = gate();
    const notifier = createMemoryNotifier({ beforeSend: hold.wait });
    const s = setup({ notifier });
    s.store.enqueueAdvisory(advisory('a1'));

    const p1 = s.outbox.drainOnce();
    const p2 = s.outbox.drainOnce();
    await settle();
    hold.open();
    const results = await Promise.all([p1, p2]);

    expect(results).toEqual([
      { sent: 1, failed: 0, retried: 0 },
      { sent: 0, failed: 0, retried: 0 },
    ]);
    expect(notifier.attempts).toBe(1);
    expect(notifier.sent.map((e) => e.id)).toEqual(['a1']);
  });

  it('drainOnce during a drain also sends what was enqueued meanwhile', async () => {
    const hold = gate();
    const notifier = createMemoryNotifier({ beforeSend: hold.wait });
    const s = setup({ notifier });
    s.store.enqueueAdvisory(advisory('a1'));
    const p1 = s.outbox.drainOnce();
    await until(() => notifier.attempts === 1, 'the first send');
    // due only after the running drain began, so only a drain after it can send it
    s.store.enqueueAdvisory(advisory('a2', { nextAttemptAtWallMs: T0 + 1 }));
    s.clock.set(T0 + 1);
    const p2 = s.outbox.drainOnce();
    const p3 = s.outbox.drainOnce();
    hold.open();
    expect(await Promise.all([p1, p2, p3])).toEqual([
      { sent: 1, failed: 0, retried: 0 },
      { sent: 1, failed: 0, retried: 0 },
      { sent: 1, failed: 0, retried: 0 },
    ]);
    expect(notifier.sent.map((e) => e.id)).toEqual(['a1', 'a2']);
  });

  it('kick: an enqueued advisory is handed off without waiting for the interval', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = setup();
    s.outbox.start(60_000);
    vi.advanceTimersByTime(0); // the start-up drain (nothing due)
    await settle();

    s.store.enqueueAdvisory(advisory('a1'));
    s.outbox.kick();
    // the (fake) interval timer never fires here: only the kick can send it
    await until(() => s.handoffs.length === 1, 'the hand-off');
    expect(s.notifier.sent.map((e) => e.id)).toEqual(['a1']);
  });

  it('kick x3 in one turn => each advisory sent once', async () => {
    const s = setup();
    s.outbox.start(60_000);
    await until(() => s.notifier.attempts === 0, 'start');
    for (const id of ['a1', 'a2', 'a3']) {
      s.store.enqueueAdvisory(advisory(id));
      s.outbox.kick();
    }
    await until(() => s.handoffs.length === 3, 'three hand-offs');
    await settle();
    expect(s.notifier.attempts).toBe(3);
  });

  it('kick before start or after stop does nothing', async () => {
    const s = setup();
    s.store.enqueueAdvisory(advisory('a1'));
    s.outbox.kick();
    await settle();
    expect(s.notifier.attempts).toBe(0);
    s.outbox.start(60_000);
    await s.outbox.stop();
    s.outbox.kick();
    await settle();
    expect(s.notifier.attempts).toBe(0);
  });

  it('loop: drains at start, then once per interval after each drain', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = setup();
    s.store.enqueueAdvisory(advisory('a1'));
    s.outbox.start(1_000);
    vi.advanceTimersByTime(0);
    await until(() => s.handoffs.length === 1 && vi.getTimerCount() === 1, 'the start-up drain');

    s.store.enqueueAdvisory(advisory('a2'));
    vi.advanceTimersByTime(999);
    await settle();
    expect(s.handoffs.map(([id]) => id)).toEqual(['a1']);
    vi.advanceTimersByTime(1);
    await until(() => s.handoffs.length === 2, 'the next tick');
    expect(s.handoffs.map(([id]) => id)).toEqual(['a1', 'a2']);
  });

  it('stop waits for the email in hand, leaves the rest pending, and ends the loop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const hold = gate();
    const notifier = createMemoryNotifier({ beforeSend: hold.wait });
    const s = setup({ notifier });
    s.store.enqueueAdvisory(advisory('a1', { decidedAtWallMs: T0 - 1 }));
    s.store.enqueueAdvisory(advisory('a2'));
    s.outbox.start(1_000);
    vi.advanceTimersByTime(0);
    await until(() => notifier.attempts === 1, 'the first send');

    let stopped = false;
    const stopping = s.outbox.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);

    hold.open();
    await stopping;
    expect(s.store.getAdvisory('a1')?.status).toBe('sent');
    expect(s.store.getAdvisory('a2')?.status).toBe('pending');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    await settle();
    expect(notifier.attempts).toBe(1);
  });

  it('start twice => error; start after stop => runs again', async () => {
    const s = setup();
    s.outbox.start(60_000);
    expect(() => s.outbox.start(60_000)).toThrow(/already started/);
    await s.outbox.stop();
    s.store.enqueueAdvisory(advisory('a1'));
    s.outbox.start(60_000);
    await until(() => s.handoffs.length === 1, 'the start-up drain after restart');
  });

  it('a failing store in the background loop is reported, not thrown, and the loop goes on', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = createTestStore();
    let broken = true;
    const flaky: TestStore = {
      ...store,
      dueAdvisories: (now, limit) => {
        if (broken) throw new Error('database is locked');
        return store.dueAdvisories(now, limit);
      },
    };
    const errors: Error[] = [];
    const s = setup({ store: flaky, onError: (e) => errors.push(e) });
    store.enqueueAdvisory(advisory('a1'));
    s.outbox.start(1_000);
    vi.advanceTimersByTime(0);
    await until(() => errors.length === 1 && vi.getTimerCount() === 1, 'the error report');
    expect(errors[0]?.message).toBe('database is locked');
    broken = false;
    vi.advanceTimersByTime(1_000);
    await until(() => s.handoffs.length === 1, 'the next tick');
  });

  it.each([
    ['baseMs 0', { backoff: { baseMs: 0 } }, /baseMs/],
    ['maxMs < baseMs', { backoff: { baseMs: 10, maxMs: 5 } }, /maxMs/],
    ['maxAttempts 0', { backoff: { maxAttempts: 0 } }, /maxAttempts/],
    ['batchSize 0', { batchSize: 0 }, /batchSize/],
    ['empty from', { from: '' }, /from/],
  ] as const)('invalid options (%s) => creation fails', (_name, over, message) => {
    expect(() => setup(over)).toThrow(message);
  });
});
