/**
 * The contract every StateStore implementation passes. An implementation's test file calls
 * `stateStoreContract('name', make)`; `make` builds a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountRecord, Advisory, Signal, Ticket } from '../domain/types.ts';
import type { StateStore } from './state-store.ts';

/** What `make` returns: a fresh store, optionally a way to reopen it, and a cleanup. */
export interface StateStoreHarness {
  store: StateStore;
  /** closes the current store and opens the same data again (persistent stores only) */
  reopen?: () => Promise<StateStore>;
  /** closes whatever store is open and removes its files */
  cleanup: () => Promise<void>;
}

/** An account with every optional property left out. */
export function bareAccount(id: string, over: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id,
    name: `Account ${id}`,
    attributes: { contractValueUsd: 0, monthlyUsage: 0, criticality: 'low', strategic: false, businessCritical: false },
    technicalContacts: [],
    businessContacts: [],
    unclassified: true,
    createdAtMs: 1000,
    updatedAtMs: 1000,
    ...over,
  };
}

/** An account with every optional property set. */
export function fullAccount(id: string): AccountRecord {
  return bareAccount(id, {
    name: 'Acme Corp',
    attributes: {
      contractValueUsd: 250_000,
      monthlyUsage: 1.5e6,
      criticality: 'mission_critical',
      strategic: true,
      businessCritical: true,
    },
    tierOverride: 'platinum',
    csm: { name: 'Cleo', email: 'cleo@example.com' },
    technicalContacts: [{ name: 'Tess', email: 'tess@acme.test' }],
    businessContacts: [{ name: 'Bo', email: 'bo@acme.test' }],
    region: 'eu-west',
    unclassified: false,
    updatedAtMs: 2000,
  });
}

/** An open signal without optional properties. */
export function openSignal(id: string, over: Partial<Signal> = {}): Signal {
  return {
    id,
    account: 'acme',
    rule: 'error-rate',
    metric: 'http_errors/http_requests',
    domain: 'performance',
    severity: 'warning',
    state: 'open',
    direction: 'up',
    onsetMs: 10_000,
    openedAtMs: 11_000,
    openedAtWallMs: 100_000,
    peakScore: 0.8,
    lastScore: 0.7,
    expected: 0.01,
    observed: 0.2,
    tier: 'gold',
    summary: 'error rate 20x its usual level',
    ...over,
  };
}

/** A pending advisory, due at its decision time. */
export function pendingAdvisory(id: string, over: Partial<Advisory> = {}): Advisory {
  return {
    id,
    dedupKey: `dedup-${id}`,
    signalId: 'sig-1',
    account: 'acme',
    kind: 'preventive_advisory',
    severity: 'warning',
    tier: 'gold',
    to: ['ops@acme.test', 'cto@acme.test'],
    subject: 'Rising error rate',
    text: 'Errors are rising.',
    html: '<p>Errors are rising.</p>',
    decidedAtMs: 11_000,
    decidedAtWallMs: 100_000,
    status: 'pending',
    attempts: 0,
    nextAttemptAtWallMs: 100_000,
    ...over,
  };
}

/** An open ticket without optional properties. */
export function openTicket(id: string, over: Partial<Ticket> = {}): Ticket {
  return {
    id,
    signalId: 'sig-1',
    account: 'acme',
    tier: 'gold',
    domain: 'security',
    queue: 'security-l2',
    priority: 'P2',
    severity: 'critical',
    title: 'Login failures spiking',
    description: 'Failed logins are 30x their usual level.',
    state: 'open',
    createdAtMs: 11_000,
    createdAtWallMs: 100_000,
    ackDueWallMs: 100_000 + 15 * 60_000,
    firstResponseDueWallMs: 100_000 + 60 * 60_000,
    resolveDueWallMs: 100_000 + 8 * 3_600_000,
    escalationLevel: 0,
    ...over,
  };
}

const ids = (items: { id: string }[]): string[] => items.map((i) => i.id);

/** Declares the StateStore contract suite for one implementation. */
export function stateStoreContract(name: string, make: () => Promise<StateStoreHarness>): void {
  describe(`${name} (StateStore contract)`, () => {
    let harness: StateStoreHarness;
    let store: StateStore;

    beforeEach(async () => {
      harness = await make();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    describe('accounts', () => {
      it.each([
        { what: 'without optional properties', account: bareAccount('acme') },
        { what: 'with every optional property', account: fullAccount('acme') },
      ])('an account $what reads back exactly', ({ account }) => {
        store.upsertAccount(account);
        expect(store.getAccount('acme')).toStrictEqual(account);
      });

      it('upsert replaces the stored account, dropping properties the new record lacks', () => {
        store.upsertAccount(fullAccount('acme'));
        const replaced = bareAccount('acme', { name: 'Acme (renamed)', unclassified: false });
        store.upsertAccount(replaced);
        expect(store.getAccount('acme')).toStrictEqual(replaced);
      });

      it('ensureAccount inserts a placeholder once and never overwrites an existing account', () => {
        expect(store.ensureAccount(bareAccount('new'))).toBe(true);
        expect(store.ensureAccount(bareAccount('new', { name: 'other' }))).toBe(false);
        expect(store.getAccount('new')?.name).toBe('Account new');
        store.upsertAccount(fullAccount('acme'));
        expect(store.ensureAccount(bareAccount('acme'))).toBe(false);
        expect(store.getAccount('acme')).toStrictEqual(fullAccount('acme'));
      });

      it('lists accounts by id, and answers undefined for an unknown one', () => {
        for (const id of ['globex', 'acme', 'initech']) store.upsertAccount(bareAccount(id));
        expect(ids(store.listAccounts())).toEqual(['acme', 'globex', 'initech']);
        expect(store.getAccount('nobody')).toBeUndefined();
      });
    });

    describe('signals', () => {
      it('an open signal reads back exactly, then open=>resolved replaces it with its resolution times', () => {
        const open = openSignal('sig-1');
        store.saveSignal(open);
        expect(store.getSignal('sig-1')).toStrictEqual(open);
        const resolved: Signal = {
          ...open,
          state: 'resolved',
          severity: 'critical',
          escalatedAtMs: 12_000,
          escalatedAtWallMs: 101_000,
          resolvedAtMs: 20_000,
          resolvedAtWallMs: 109_000,
          runbookUrl: 'https://runbooks.example/error-rate',
        };
        store.saveSignal(resolved);
        expect(store.getSignal('sig-1')).toStrictEqual(resolved);
        expect(store.listSignals({ state: 'open' })).toEqual([]);
        expect(store.listSignals({ state: 'resolved' })).toStrictEqual([resolved]);
        expect(store.getSignal('nope')).toBeUndefined();
      });

      it.each([
        { filter: {}, want: ['s4', 's3', 's2', 's1'] },
        { filter: { account: 'acme' }, want: ['s3', 's1'] },
        { filter: { state: 'resolved' as const }, want: ['s4', 's3', 's2'] },
        { filter: { account: 'acme', state: 'open' as const }, want: ['s1'] },
        { filter: { limit: 2 }, want: ['s4', 's3'] },
        { filter: { account: 'globex', limit: 1 }, want: ['s4'] },
        { filter: { account: 'nobody' }, want: [] },
      ])('listSignals($filter) returns $want, newest first', ({ filter, want }) => {
        store.saveSignal(openSignal('s1', { account: 'acme', openedAtWallMs: 1 }));
        store.saveSignal(openSignal('s2', { account: 'globex', state: 'resolved', openedAtWallMs: 2 }));
        store.saveSignal(openSignal('s3', { account: 'acme', state: 'open', openedAtWallMs: 3 }));
        store.saveSignal(openSignal('s4', { account: 'globex', state: 'resolved', openedAtWallMs: 4 }));
        // saving again updates the filtered columns too
        store.saveSignal(openSignal('s3', { account: 'acme', state: 'resolved', openedAtWallMs: 3 }));
        expect(ids(store.listSignals(filter))).toEqual(want);
      });
    });

    describe('advisory outbox', () => {
      it('an enqueued advisory reads back exactly, and the same dedupKey is never queued twice', () => {
        const a = pendingAdvisory('a1');
        expect(store.enqueueAdvisory(a)).toBe(true);
        expect(store.getAdvisory('a1')).toStrictEqual(a);
        expect(store.enqueueAdvisory(pendingAdvisory('a2', { dedupKey: a.dedupKey, subject: 'again' }))).toBe(false);
        expect(store.getAdvisory('a2')).toBeUndefined();
        expect(store.getAdvisory('a1')?.subject).toBe('Rising error rate');
        expect(store.outboxDepth()).toBe(1);
        expect(store.getAdvisory('nope')).toBeUndefined();
      });

      it('dueAdvisories returns pending advisories due at now, oldest decision first, up to the limit', () => {
        store.enqueueAdvisory(pendingAdvisory('newest', { decidedAtWallMs: 40, nextAttemptAtWallMs: 300 }));
        store.enqueueAdvisory(pendingAdvisory('oldest', { decidedAtWallMs: 10, nextAttemptAtWallMs: 200 }));
        store.enqueueAdvisory(pendingAdvisory('middle', { decidedAtWallMs: 20, nextAttemptAtWallMs: 100 }));
        store.enqueueAdvisory(pendingAdvisory('middle-too', { decidedAtWallMs: 20, nextAttemptAtWallMs: 100 }));
        store.enqueueAdvisory(
          pendingAdvisory('sent', { decidedAtWallMs: 5, nextAttemptAtWallMs: 5, status: 'sent', sentAtWallMs: 6, attempts: 1 }),
        );
        expect(ids(store.dueAdvisories(99, 10))).toEqual([]);
        expect(ids(store.dueAdvisories(200, 10))).toEqual(['oldest', 'middle', 'middle-too']);
        expect(ids(store.dueAdvisories(1000, 2))).toEqual(['oldest', 'middle']);
        expect(ids(store.dueAdvisories(1000, 10))).toEqual(['oldest', 'middle', 'middle-too', 'newest']);
        expect(store.outboxDepth()).toBe(4);
      });

      it('pending=>sent: counts the attempt, records the time, leaves the due list and the depth', () => {
        store.enqueueAdvisory(pendingAdvisory('a1', { nextAttemptAtWallMs: 100 }));
        store.markAdvisorySent('a1', 150);
        expect(store.getAdvisory('a1')).toStrictEqual({
          ...pendingAdvisory('a1', { nextAttemptAtWallMs: 100 }),
          status: 'sent',
          attempts: 1,
          sentAtWallMs: 150,
        });
        expect(store.dueAdvisories(10_000, 10)).toEqual([]);
        expect(store.outboxDepth()).toBe(0);
      });

      it('pending=>retry=>retry=>sent: each failure counts an attempt, keeps the error and moves the next attempt', () => {
        store.enqueueAdvisory(pendingAdvisory('a1', { nextAttemptAtWallMs: 100 }));
        store.markAdvisoryFailed('a1', 'smtp 451 try later', 1100);
        expect(store.getAdvisory('a1')).toMatchObject({
          status: 'pending',
          attempts: 1,
          lastError: 'smtp 451 try later',
          nextAttemptAtWallMs: 1100,
        });
        expect(store.dueAdvisories(1099, 10)).toEqual([]);
        expect(ids(store.dueAdvisories(1100, 10))).toEqual(['a1']);
        store.markAdvisoryFailed('a1', 'connection reset', 3100);
        expect(store.getAdvisory('a1')).toMatchObject({
          status: 'pending',
          attempts: 2,
          lastError: 'connection reset',
          nextAttemptAtWallMs: 3100,
        });
        expect(store.outboxDepth()).toBe(1);
        store.markAdvisorySent('a1', 3200);
        expect(store.getAdvisory('a1')).toMatchObject({ status: 'sent', attempts: 3, sentAtWallMs: 3200, lastError: 'connection reset' });
        expect(store.outboxDepth()).toBe(0);
      });

      it('pending=>failed: giving up marks it failed, off the due list and out of the depth, for good', () => {
        store.enqueueAdvisory(pendingAdvisory('a1', { nextAttemptAtWallMs: 100 }));
        store.markAdvisoryFailed('a1', 'smtp 550 no such user', undefined);
        const failed = store.getAdvisory('a1');
        expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastError: 'smtp 550 no such user' });
        expect(failed).not.toHaveProperty('sentAtWallMs');
        expect(store.dueAdvisories(10_000, 10)).toEqual([]);
        expect(store.outboxDepth()).toBe(0);
        // a late report about a settled advisory changes nothing
        store.markAdvisorySent('a1', 200);
        expect(store.getAdvisory('a1')).toStrictEqual(failed);
      });

      it('refuses to mark an unknown advisory', () => {
        expect(() => store.markAdvisorySent('ghost', 1)).toThrow(/ghost/);
        expect(() => store.markAdvisoryFailed('ghost', 'x', undefined)).toThrow(/ghost/);
      });

      it.each([
        { filter: {}, want: ['a5', 'a4', 'a3', 'a2', 'a1'] },
        { filter: { account: 'globex' }, want: ['a4', 'a2'] },
        { filter: { kind: 'csm_alert' as const }, want: ['a5', 'a1'] },
        { filter: { sinceWallMs: 300 }, want: ['a5', 'a4', 'a3'] },
        { filter: { signalId: 'sig-2' }, want: ['a4', 'a3'] },
        { filter: { account: 'acme', kind: 'csm_alert' as const, sinceWallMs: 200 }, want: ['a5'] },
        { filter: { limit: 2 }, want: ['a5', 'a4'] },
        { filter: { account: 'acme', limit: 1 }, want: ['a5'] },
        { filter: { kind: 'resolution_note' as const }, want: [] },
      ])('listAdvisories($filter) returns $want, newest first', ({ filter, want }) => {
        const rows: [string, string, Advisory['kind'], string, number][] = [
          ['a1', 'acme', 'csm_alert', 'sig-1', 100],
          ['a2', 'globex', 'technical_advisory', 'sig-3', 200],
          ['a3', 'acme', 'preventive_advisory', 'sig-2', 300],
          ['a4', 'globex', 'preventive_advisory', 'sig-2', 400],
          ['a5', 'acme', 'csm_alert', 'sig-1', 500],
        ];
        for (const [id, account, kind, signalId, at] of rows) {
          store.enqueueAdvisory(pendingAdvisory(id, { account, kind, signalId, decidedAtWallMs: at, nextAttemptAtWallMs: at }));
        }
        expect(ids(store.listAdvisories(filter))).toEqual(want);
      });
    });

    describe('tickets', () => {
      it('a ticket reads back exactly, then open=>acknowledged=>resolved replaces it', () => {
        const open = openTicket('t1');
        store.saveTicket(open);
        expect(store.getTicket('t1')).toStrictEqual(open);
        const acked: Ticket = { ...open, state: 'acknowledged', ackedAtWallMs: 100_500, escalationLevel: 1 };
        store.saveTicket(acked);
        expect(store.getTicket('t1')).toStrictEqual(acked);
        const resolved: Ticket = { ...acked, state: 'resolved', resolvedAtWallMs: 120_000 };
        store.saveTicket(resolved);
        expect(store.getTicket('t1')).toStrictEqual(resolved);
        expect(store.listTickets({ state: 'open' })).toEqual([]);
        expect(store.getTicket('nope')).toBeUndefined();
      });

      it.each([
        { filter: {}, want: ['t3', 't2', 't1'] },
        { filter: { account: 'acme' }, want: ['t3', 't1'] },
        { filter: { state: 'open' as const }, want: ['t3', 't2'] },
        { filter: { account: 'acme', state: 'resolved' as const }, want: ['t1'] },
        { filter: { limit: 1 }, want: ['t3'] },
      ])('listTickets($filter) returns $want, newest first', ({ filter, want }) => {
        store.saveTicket(openTicket('t1', { account: 'acme', state: 'resolved', createdAtWallMs: 1 }));
        store.saveTicket(openTicket('t2', { account: 'globex', createdAtWallMs: 2 }));
        store.saveTicket(openTicket('t3', { account: 'acme', createdAtWallMs: 3 }));
        expect(ids(store.listTickets(filter))).toEqual(want);
      });
    });

    describe('checkpoints', () => {
      it('saves, overwrites and loads bytes by key', () => {
        expect(store.loadCheckpoint('detector:acme')).toBeUndefined();
        store.saveCheckpoint('detector:acme', new Uint8Array([1, 2, 3, 255]));
        store.saveCheckpoint('detector:globex', new Uint8Array(0));
        const loaded = store.loadCheckpoint('detector:acme');
        expect(loaded).toBeInstanceOf(Uint8Array);
        expect(Array.from(loaded ?? [])).toEqual([1, 2, 3, 255]);
        expect(Array.from(store.loadCheckpoint('detector:globex') ?? [9])).toEqual([]);
        // a view into a larger buffer stores only the viewed bytes
        const big = new Uint8Array([9, 9, 7, 8, 9, 9]);
        store.saveCheckpoint('detector:acme', big.subarray(2, 4));
        expect(Array.from(store.loadCheckpoint('detector:acme') ?? [])).toEqual([7, 8]);
      });
    });

    describe('transactions', () => {
      it('commits every write of the function and returns its result', () => {
        const result = store.transaction(() => {
          store.upsertAccount(bareAccount('acme'));
          store.enqueueAdvisory(pendingAdvisory('a1'));
          return 42;
        });
        expect(result).toBe(42);
        expect(store.getAccount('acme')).toBeDefined();
        expect(store.outboxDepth()).toBe(1);
      });

      it('rolls every write back when the function throws, and rethrows its error', () => {
        store.upsertAccount(bareAccount('acme'));
        const boom = new Error('boom');
        expect(() =>
          store.transaction(() => {
            store.upsertAccount(fullAccount('acme'));
            store.saveSignal(openSignal('sig-1'));
            store.enqueueAdvisory(pendingAdvisory('a1'));
            store.saveTicket(openTicket('t1'));
            store.saveCheckpoint('k', new Uint8Array([1]));
            throw boom;
          }),
        ).toThrow(boom);
        expect(store.getAccount('acme')).toStrictEqual(bareAccount('acme'));
        expect(store.getSignal('sig-1')).toBeUndefined();
        expect(store.outboxDepth()).toBe(0);
        expect(store.enqueueAdvisory(pendingAdvisory('a1'))).toBe(true);
        expect(store.getTicket('t1')).toBeUndefined();
        expect(store.loadCheckpoint('k')).toBeUndefined();
      });
    });

    it('keeps everything across a reopen', async (ctx) => {
      if (harness.reopen === undefined) return ctx.skip();
      store.upsertAccount(fullAccount('acme'));
      store.saveSignal(openSignal('sig-1'));
      store.enqueueAdvisory(pendingAdvisory('a1'));
      store.enqueueAdvisory(pendingAdvisory('a2'));
      store.markAdvisoryFailed('a2', 'smtp 451', 5000);
      store.saveTicket(openTicket('t1'));
      store.saveCheckpoint('k', new Uint8Array([4, 5]));
      store = await harness.reopen();
      expect(store.getAccount('acme')).toStrictEqual(fullAccount('acme'));
      expect(store.getSignal('sig-1')).toStrictEqual(openSignal('sig-1'));
      expect(store.getAdvisory('a1')).toStrictEqual(pendingAdvisory('a1'));
      expect(store.getAdvisory('a2')).toStrictEqual({
        ...pendingAdvisory('a2'),
        attempts: 1,
        lastError: 'smtp 451',
        nextAttemptAtWallMs: 5000,
      });
      expect(store.enqueueAdvisory(pendingAdvisory('a3', { dedupKey: 'dedup-a1' }))).toBe(false);
      expect(store.getTicket('t1')).toStrictEqual(openTicket('t1'));
      expect(Array.from(store.loadCheckpoint('k') ?? [])).toEqual([4, 5]);
      expect(store.outboxDepth()).toBe(2);
    });
  });
}
