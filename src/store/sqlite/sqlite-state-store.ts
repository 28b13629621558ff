/**
 * The SQLite state store: accounts, signals, the advisory outbox, tickets and detector
 * checkpoints in one SQLite file (WAL, synchronous FULL: the outbox must not forget an email).
 *
 * Each record is a JSON column plus the columns its filters and ordering need, so optional
 * properties round-trip exactly (absent stays absent). The mutable outbox fields (status,
 * attempts, next attempt, sent time, last error) are columns only and win over the JSON.
 * Lists are newest first; `dueAdvisories` is oldest first (by decision time, then enqueue order).
 * Marking an advisory that is no longer pending (sent or given up) changes nothing; marking an
 * unknown one throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AccountRecord, Advisory, AdvisoryStatus, Signal, Ticket } from '../../domain/types.ts';
import type { AdvisoryFilter, SignalFilter, StateStore, TicketFilter } from '../state-store.ts';

/** Options of {@link createSqliteStateStore}. */
export interface SqliteStateStoreOptions {
  /** database file, e.g. `data/state.db` (its folder is created if missing), or `:memory:` */
  path: string;
}

/** Schema version written to `meta`; a file with a newer one is refused. */
export const STATE_SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, data TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS signals (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, state TEXT NOT NULL, opened_at_wall_ms NUMERIC NOT NULL, data TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS signals_by_account ON signals (account, opened_at_wall_ms);
  CREATE INDEX IF NOT EXISTS signals_by_state ON signals (state, opened_at_wall_ms);
  CREATE TABLE IF NOT EXISTS advisories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    dedup_key TEXT NOT NULL UNIQUE,
    signal_id TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    decided_at_wall_ms NUMERIC NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at_wall_ms NUMERIC NOT NULL,
    sent_at_wall_ms NUMERIC,
    last_error TEXT,
    data TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS advisories_pending ON advisories (status, decided_at_wall_ms, seq);
  CREATE INDEX IF NOT EXISTS advisories_by_account ON advisories (account, decided_at_wall_ms);
  CREATE INDEX IF NOT EXISTS advisories_by_signal ON advisories (signal_id);
  CREATE INDEX IF NOT EXISTS advisories_by_decided ON advisories (decided_at_wall_ms);
  CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, signal_id TEXT NOT NULL, account TEXT NOT NULL, state TEXT NOT NULL,
    created_at_wall_ms NUMERIC NOT NULL, data TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS tickets_by_account ON tickets (account, created_at_wall_ms);
  CREATE INDEX IF NOT EXISTS tickets_by_state ON tickets (state, created_at_wall_ms);
  CREATE TABLE IF NOT EXISTS checkpoints (key TEXT PRIMARY KEY, data BLOB NOT NULL);
`;

/** The outbox fields that change after enqueueing; kept in columns, not in the JSON. */
type MutableAdvisoryFields = 'status' | 'attempts' | 'nextAttemptAtWallMs' | 'sentAtWallMs' | 'lastError';

interface AdvisoryRow {
  status: AdvisoryStatus;
  attempts: number;
  next_attempt_at_wall_ms: number;
  sent_at_wall_ms: number | null;
  last_error: string | null;
  data: string;
}

const ADVISORY_COLUMNS = 'status, attempts, next_attempt_at_wall_ms, sent_at_wall_ms, last_error, data';

function toAdvisory(row: AdvisoryRow): Advisory {
  const advisory: Advisory = {
    ...(JSON.parse(row.data) as Omit<Advisory, MutableAdvisoryFields>),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAtWallMs: row.next_attempt_at_wall_ms,
  };
  if (row.sent_at_wall_ms !== null) advisory.sentAtWallMs = row.sent_at_wall_ms;
  if (row.last_error !== null) advisory.lastError = row.last_error;
  return advisory;
}

function immutableJson(advisory: Advisory): string {
  const { status: _s, attempts: _a, nextAttemptAtWallMs: _n, sentAtWallMs: _t, lastError: _e, ...rest } = advisory;
  return JSON.stringify(rest);
}

/** Builds `WHERE ... ORDER BY ... LIMIT ?` for the filters that are set, in a fixed order. */
function filterSql(conditions: [string, unknown][], orderBy: string): { shape: string; sql: string; params: unknown[] } {
  const set = conditions.filter(([, value]) => value !== undefined);
  const where = set.length > 0 ? ` WHERE ${set.map(([sql]) => sql).join(' AND ')}` : '';
  return { shape: where, sql: `${where} ORDER BY ${orderBy} LIMIT ?`, params: set.map(([, value]) => value) };
}

/**
 * Opens (or creates) the state store. Throws when the file cannot be opened or was written by a
 * newer schema version.
 */
export function createSqliteStateStore(options: SqliteStateStoreOptions): StateStore {
  const file = options.path;
  const where = `state store ${file}`;
  let db: Database.Database;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
  } catch (cause) {
    throw new Error(`${where}: cannot open the database`, { cause });
  }
  try {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (row !== undefined && Number(row.value) !== STATE_SCHEMA_VERSION) {
      throw new Error(`${where}: schema version ${row.value} is not supported (this build reads version ${STATE_SCHEMA_VERSION})`);
    }
    db.transaction(() => {
      db.exec(SCHEMA);
      db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(STATE_SCHEMA_VERSION));
    })();
  } catch (error) {
    db.close();
    throw error;
  }

  const stmt = {
    upsertAccount: db.prepare('INSERT INTO accounts (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data'),
    insertAccount: db.prepare('INSERT OR IGNORE INTO accounts (id, data) VALUES (?, ?)'),
    getAccount: db.prepare('SELECT data FROM accounts WHERE id = ?').pluck(),
    listAccounts: db.prepare('SELECT data FROM accounts ORDER BY id').pluck(),
    upsertSignal: db.prepare(
      `INSERT INTO signals (id, account, state, opened_at_wall_ms, data) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET account = excluded.account, state = excluded.state,
         opened_at_wall_ms = excluded.opened_at_wall_ms, data = excluded.data`,
    ),
    getSignal: db.prepare('SELECT data FROM signals WHERE id = ?').pluck(),
    insertAdvisory: db.prepare(
      `INSERT OR IGNORE INTO advisories (id, dedup_key, signal_id, account, kind, decided_at_wall_ms, status, attempts,
         next_attempt_at_wall_ms, sent_at_wall_ms, last_error, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    dueAdvisories: db.prepare(
      `SELECT ${ADVISORY_COLUMNS} FROM advisories WHERE status = 'pending' AND next_attempt_at_wall_ms <= ?
       ORDER BY decided_at_wall_ms, seq LIMIT ?`,
    ),
    markSent: db.prepare(
      `UPDATE advisories SET status = 'sent', attempts = attempts + 1, sent_at_wall_ms = ? WHERE id = ? AND status = 'pending'`,
    ),
    markRetry: db.prepare(
      `UPDATE advisories SET attempts = attempts + 1, last_error = ?, next_attempt_at_wall_ms = ? WHERE id = ? AND status = 'pending'`,
    ),
    markGaveUp: db.prepare(
      `UPDATE advisories SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND status = 'pending'`,
    ),
    advisoryExists: db.prepare('SELECT 1 FROM advisories WHERE id = ?').pluck(),
    getAdvisory: db.prepare(`SELECT ${ADVISORY_COLUMNS} FROM advisories WHERE id = ?`),
    outboxDepth: db.prepare(`SELECT count(*) FROM advisories WHERE status = 'pending'`).pluck(),
    upsertTicket: db.prepare(
      `INSERT INTO tickets (id, signal_id, account, state, created_at_wall_ms, data) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET signal_id = excluded.signal_id, account = excluded.account, state = excluded.state,
         created_at_wall_ms = excluded.created_at_wall_ms, data = excluded.data`,
    ),
    getTicket: db.prepare('SELECT data FROM tickets WHERE id = ?').pluck(),
    saveCheckpoint: db.prepare('INSERT INTO checkpoints (key, data) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET data = excluded.data'),
    loadCheckpoint: db.prepare('SELECT data FROM checkpoints WHERE key = ?').pluck(),
  };

  /** list statements, one per combination of filters in use, prepared on first use */
  const listStatements = new Map<string, Database.Statement>();
  function list(
    table: string,
    columns: string,
    filter: { shape: string; sql: string; params: unknown[] },
    limit: number | undefined,
  ): unknown[] {
    const cacheKey = `${table}${filter.shape}`;
    let statement = listStatements.get(cacheKey);
    if (statement === undefined) {
      statement = db.prepare(`SELECT ${columns} FROM ${table}${filter.sql}`);
      listStatements.set(cacheKey, statement);
    }
    return statement.all(...filter.params, limit ?? -1);
  }

  let closed = false;
  /** runs one operation, naming the store and the operation when SQLite fails */
  function run<T>(what: string, fn: () => T): T {
    if (closed) throw new Error(`${where}: the store is closed`);
    try {
      return fn();
    } catch (cause) {
      throw new Error(`${where}: cannot ${what}`, { cause });
    }
  }

  /** A transition that changed nothing is fine for a settled advisory, an error for an unknown one. */
  function requireAdvisory(id: string, changes: number): void {
    if (changes === 0 && run(`read advisory ${id}`, () => stmt.advisoryExists.get(id)) === undefined) {
      throw new Error(`${where}: advisory ${id} does not exist`);
    }
  }

  return {
    upsertAccount(account) {
      run(`save account ${account.id}`, () => stmt.upsertAccount.run(account.id, JSON.stringify(account)));
    },
    ensureAccount(account) {
      return run(`insert account ${account.id}`, () => stmt.insertAccount.run(account.id, JSON.stringify(account)).changes === 1);
    },
    getAccount(id) {
      const data = run(`read account ${id}`, () => stmt.getAccount.get(id)) as string | undefined;
      return data === undefined ? undefined : (JSON.parse(data) as AccountRecord);
    },
    listAccounts() {
      return (run('list accounts', () => stmt.listAccounts.all()) as string[]).map((d) => JSON.parse(d) as AccountRecord);
    },

    saveSignal(signal) {
      run(`save signal ${signal.id}`, () =>
        stmt.upsertSignal.run(signal.id, signal.account, signal.state, signal.openedAtWallMs, JSON.stringify(signal)),
      );
    },
    getSignal(id) {
      const data = run(`read signal ${id}`, () => stmt.getSignal.get(id)) as string | undefined;
      return data === undefined ? undefined : (JSON.parse(data) as Signal);
    },
    listSignals(filter: SignalFilter = {}) {
      const f = filterSql(
        [
          ['account = ?', filter.account],
          ['state = ?', filter.state],
        ],
        'opened_at_wall_ms DESC, rowid DESC',
      );
      return (run('list signals', () => list('signals', 'data', f, filter.limit)) as { data: string }[]).map(
        (r) => JSON.parse(r.data) as Signal,
      );
    },

    enqueueAdvisory(a) {
      return run(`enqueue advisory ${a.id}`, () => {
        const info = stmt.insertAdvisory.run(
          a.id,
          a.dedupKey,
          a.signalId,
          a.account,
          a.kind,
          a.decidedAtWallMs,
          a.status,
          a.attempts,
          a.nextAttemptAtWallMs,
          a.sentAtWallMs ?? null,
          a.lastError ?? null,
          immutableJson(a),
        );
        return info.changes === 1;
      });
    },
    dueAdvisories(nowWallMs, limit) {
      return (run('read due advisories', () => stmt.dueAdvisories.all(nowWallMs, limit)) as AdvisoryRow[]).map(toAdvisory);
    },
    markAdvisorySent(id, sentAtWallMs) {
      requireAdvisory(
        id,
        run(`mark advisory ${id} sent`, () => stmt.markSent.run(sentAtWallMs, id).changes),
      );
    },
    markAdvisoryFailed(id, error, nextAttemptAtWallMs) {
      const changes = run(`mark advisory ${id} failed`, () =>
        nextAttemptAtWallMs === undefined
          ? stmt.markGaveUp.run(error, id).changes
          : stmt.markRetry.run(error, nextAttemptAtWallMs, id).changes,
      );
      requireAdvisory(id, changes);
    },
    getAdvisory(id) {
      const row = run(`read advisory ${id}`, () => stmt.getAdvisory.get(id)) as AdvisoryRow | undefined;
      return row === undefined ? undefined : toAdvisory(row);
    },
    listAdvisories(filter: AdvisoryFilter = {}) {
      const f = filterSql(
        [
          ['account = ?', filter.account],
          ['kind = ?', filter.kind],
          ['decided_at_wall_ms >= ?', filter.sinceWallMs],
          ['signal_id = ?', filter.signalId],
        ],
        'decided_at_wall_ms DESC, seq DESC',
      );
      return (run('list advisories', () => list('advisories', ADVISORY_COLUMNS, f, filter.limit)) as AdvisoryRow[]).map(toAdvisory);
    },
    outboxDepth() {
      return run('count pending advisories', () => stmt.outboxDepth.get()) as number;
    },

    saveTicket(t) {
      run(`save ticket ${t.id}`, () => stmt.upsertTicket.run(t.id, t.signalId, t.account, t.state, t.createdAtWallMs, JSON.stringify(t)));
    },
    getTicket(id) {
      const data = run(`read ticket ${id}`, () => stmt.getTicket.get(id)) as string | undefined;
      return data === undefined ? undefined : (JSON.parse(data) as Ticket);
    },
    listTickets(filter: TicketFilter = {}) {
      const f = filterSql(
        [
          ['account = ?', filter.account],
          ['state = ?', filter.state],
        ],
        'created_at_wall_ms DESC, rowid DESC',
      );
      return (run('list tickets', () => list('tickets', 'data', f, filter.limit)) as { data: string }[]).map(
        (r) => JSON.parse(r.data) as Ticket,
      );
    },

    saveCheckpoint(key, data) {
      run(`save checkpoint ${key}`, () => stmt.saveCheckpoint.run(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
    },
    loadCheckpoint(key) {
      const data = run(`load checkpoint ${key}`, () => stmt.loadCheckpoint.get(key)) as Buffer | undefined;
      return data === undefined ? undefined : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    },

    transaction(fn) {
      if (closed) throw new Error(`${where}: the store is closed`);
      // errors of fn propagate as they are; better-sqlite3 rolls back and refuses async functions
      return db.transaction(fn)();
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
