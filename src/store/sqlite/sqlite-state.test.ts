/** The SQLite state store: the StateStore contract on a file and in memory, plus its own guarantees. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { bareAccount, pendingAdvisory, stateStoreContract } from '../state-contract.ts';
import { createSqliteStateStore } from './sqlite-state-store.ts';

stateStoreContract('sqlite state store, file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-state-'));
  const file = path.join(dir, 'state.db');
  let store = createSqliteStateStore({ path: file });
  return {
    store,
    reopen: async () => {
      store.close();
      store = createSqliteStateStore({ path: file });
      return store;
    },
    cleanup: async () => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

stateStoreContract('sqlite state store, :memory:', async () => {
  const store = createSqliteStateStore({ path: ':memory:' });
  return { store, cleanup: async () => store.close() };
});

describe('sqlite state store', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-state-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('refuses a file written by a newer schema, naming the file', () => {
    const file = path.join(tempDir(), 'future-state.db');
    createSqliteStateStore({ path: file }).close();
    const raw = new Database(file);
    raw.prepare(`UPDATE meta SET value = '2' WHERE key = 'schema_version'`).run();
    raw.close();
    expect(() => createSqliteStateStore({ path: file })).toThrow(/future-state\.db.*schema version 2/);
  });

  it('creates the folder of its file', () => {
    const file = path.join(tempDir(), 'a', 'b', 'state.db');
    const store = createSqliteStateStore({ path: file });
    store.upsertAccount(bareAccount('acme'));
    store.close();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('refuses an async transaction function instead of committing half of it', async () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    expect(() =>
      store.transaction(async () => {
        store.enqueueAdvisory(pendingAdvisory('a1'));
      }),
    ).toThrow(/promise/i);
    expect(store.outboxDepth()).toBe(0);
    store.close();
  });

  it('nested transactions roll back with the outer one', () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    expect(() =>
      store.transaction(() => {
        store.transaction(() => store.upsertAccount(bareAccount('inner')));
        throw new Error('outer fails');
      }),
    ).toThrow('outer fails');
    expect(store.getAccount('inner')).toBeUndefined();
    store.close();
  });

  it('names the store and the operation when a call fails, and refuses calls once closed', () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    // a circular object cannot be serialised: the error says which account could not be saved
    const broken = bareAccount('loop') as unknown as Record<string, unknown>;
    broken['self'] = broken;
    expect(() => store.upsertAccount(broken as never)).toThrow(/state store :memory:: cannot save account loop/);
    store.close();
    expect(() => store.getAccount('acme')).toThrow(/closed/);
  });
});
