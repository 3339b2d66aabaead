import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { withFileLock } from './file-lock.js';
import { repoRoot } from './repo-root.js';

/** The Postgres every development and CI machine runs (trust auth). */
export const MACHINE_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

// Durability is pointless for throwaway test data, and fsync dominates DDL-heavy test set-up.
const TEST_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' };

let ensured: Promise<{ url: string }> | undefined;

/**
 * The admin URL of a running Postgres for tests, decided once per process: DATABASE_URL if set;
 * else the machine's server if it answers within 1 s; else a shared embedded server (see
 * sharedEmbeddedPostgres).
 */
export function ensurePostgres(): Promise<{ url: string }> {
  ensured ??= locatePostgres().catch((err: unknown) => {
    ensured = undefined;
    throw err;
  });
  return ensured;
}

async function locatePostgres(): Promise<{ url: string }> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv };
  if (await answers(MACHINE_POSTGRES_URL, 1_000)) return { url: MACHINE_POSTGRES_URL };
  return sharedEmbeddedPostgres(join(repoRoot(), '.hearth', 'test-pg'));
}

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * One embedded server on `dataDir` shared by every test process. node's test runner runs each
 * file in its own process, several at once: a lock file serialises the start, and later
 * processes find the running server through postmaster.pid. It is deliberately left running
 * when the processes exit, so the next test run starts in milliseconds; stop it with
 * `stopEmbeddedPostgresAt(dataDir)`.
 */
export async function sharedEmbeddedPostgres(dataDir: string): Promise<{ url: string }> {
  await mkdir(dirname(dataDir), { recursive: true });
  return withFileLock(`${dataDir}.lock`, async () => {
    const server = await startEmbeddedPostgres({ dataDir, settings: TEST_SETTINGS, onOtherMajor: 'recreate' });
    return { url: server.url };
  });
}

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as ensurePostgres). */
  url: string;
  name: string;
  /**
   * Drops it: waits (up to 5 s) for the connections still closing to go, then terminates the
   * rest and drops. Safe to call twice.
   */
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A fresh, empty database for one test file: `after(() => testDb.drop())`, or `await using`.
 * Databases (not schemas) so a test can run the real migrations of every service side by side.
 */
export async function createTestDatabase(opts: { prefix?: string; template?: string } = {}): Promise<TestDatabase> {
  const { url: admin } = await ensurePostgres();
  const prefix = (opts.prefix ?? '').toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 24);
  const name = `hearth_t_${prefix ? `${prefix}_` : ''}${randomBytes(6).toString('hex')}`;
  // A copy of a migrated template is a file copy: far cheaper than running every migration.
  const from = opts.template ? ` template ${pg.escapeIdentifier(opts.template)}` : '';
  await withAdmin(admin, (c) => c.query(`create database ${pg.escapeIdentifier(name)}${from}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropped ??= withAdmin(admin, async (c) => {
      // A pool's end() resolves before the server has seen every connection go; terminating one
      // mid-close surfaces in the test process as an uncaught error, so let them finish first.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if ((rows[0]?.n ?? 0) === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // WITH (FORCE) (Postgres 13+) terminates what is left, e.g. a pool a failed test left open.
      await c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    }));
  return { url: url.toString(), name, drop, [Symbol.asyncDispose]: drop };
}

export async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
