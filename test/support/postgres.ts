/**
 * The PostgreSQL of the test machines (127.0.0.1:5432, user postgres, trust auth, database `test`,
 * or FOREWARN_TEST_PG_URL): connects, creates uniquely named tables for one test run and drops
 * them afterwards. When the server is not running the tests FAIL with how to start it; they never
 * skip silently.
 */
import pg from 'pg';

/** Connection URL of the test database. */
export const TEST_PG_URL = process.env.FOREWARN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** How to start the local PostgreSQL, quoted in the failure message. */
export const PG_START_HINT = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

/** A connection to the test database plus the tables this run created. */
export interface TestPostgres {
  url: string;
  client: pg.Client;
  /** a table name unique to this run, e.g. `fw_test_usage_12345_ab12` */
  uniqueName(prefix: string): string;
  /** drops every table made with `uniqueName` and disconnects */
  close(): Promise<void>;
}

/** Connects to the test database or throws an error that says how to start PostgreSQL. */
export async function connectTestPostgres(): Promise<TestPostgres> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (cause) {
    await client.end().catch(() => undefined);
    throw new Error(
      `postgresql is not reachable at ${TEST_PG_URL} (${(cause as Error).message}); start it with:\n  ${PG_START_HINT}\n` +
        `(or point FOREWARN_TEST_PG_URL at another server)`,
      { cause },
    );
  }
  const names: string[] = [];
  const run = `${process.pid}_${Date.now().toString(36)}`;
  return {
    url: TEST_PG_URL,
    client,
    uniqueName(prefix) {
      const name = `${prefix}_${run}_${names.length}`;
      names.push(name);
      return name;
    },
    async close() {
      for (const n of names) await client.query(`DROP TABLE IF EXISTS "${n}"`).catch(() => undefined);
      await client.end();
    },
  };
}
