import { type Kysely, sql } from 'kysely';
import { type Migration, type MigrationResult, Migrator } from 'kysely/migration';
import { type Database, type DbLogger, assertSchemaName } from './database.js';

/**
 * A service's migrations, keyed `YYYY_MM_DD_NNNN_what` (e.g. `2026_11_23_0001_init`) so that the
 * lexical order kysely applies them in is the order they were written. Never edit a merged one.
 */
export type Migrations = Record<string, Migration>;

export interface MigrateOptions {
  /** The service schema: created if missing, holds `kysely_migration`, and is the `search_path` migrations run with. */
  schema: string;
  migrations: Migrations;
  logger?: DbLogger;
}

const MIGRATION_NAME = /^\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+$/;

/** A migration run that failed; nothing from that run is applied (it runs in one transaction). */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly schema: string,
    /** The migration whose `up` threw, if the failure was inside one. */
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

function assertMigrationNames(schema: string, migrations: Migrations): void {
  const bad = Object.keys(migrations).filter((name) => !MIGRATION_NAME.test(name));
  if (bad.length > 0) {
    throw new Error(`${schema}: migration names must look like 2026_11_23_0001_init, got: ${bad.join(', ')}`);
  }
}

// Structural, not instanceof: a Database from another copy of this package (src vs dist) still
// counts. Kysely has no `db` member. A Transaction cannot be passed: the run needs its own connection.
function kyselyOf<DB>(db: Database<DB> | Kysely<DB>): Kysely<unknown> {
  return ('db' in db ? db.db : db) as unknown as Kysely<unknown>;
}

/**
 * Brings `schema` up to date. Safe to call from every replica at start-up:
 *
 * - kysely's Migrator creates the schema and `<schema>.kysely_migration` (+ `_lock`) if missing;
 * - on Postgres it serialises runs with a session-level `pg_advisory_lock` (PostgresAdapter
 *   `acquireMigrationLock`, kysely 0.29: fixed key 3853314791062309107, lock_timeout 1 h), and
 *   reads the applied list only after taking it, so a replica that waited finds nothing to do.
 *   The key is the same for every schema, so services sharing a database migrate one at a time;
 * - all pending migrations run in ONE transaction (Postgres has transactional DDL), so a failure
 *   leaves the schema exactly as it was before the call.
 *
 * It runs on one dedicated connection with `statement_timeout = 0` (a long index build or a wait
 * for another replica's lock must not hit the pool's query timeout) and `search_path = schema`.
 */
export async function migrateToLatest<DB>(
  db: Database<DB> | Kysely<DB>,
  opts: MigrateOptions,
): Promise<{ applied: string[] }> {
  const { schema, migrations } = opts;
  assertSchemaName(schema);
  assertMigrationNames(schema, migrations);
  return kyselyOf(db)
    .connection()
    .execute(async (conn) => {
      await sql`set statement_timeout = 0`.execute(conn);
      await sql`set search_path to ${sql.id(schema)}`.execute(conn);
      try {
        const ahead = await readStatus(conn, schema, migrations);
        if (ahead.unknown.length > 0 && ahead.pending.length === 0) {
          // An older replica restarting during a rolling deploy: the schema is newer than this
          // code. Migrations are expand/contract, so the old code keeps working; refusing to
          // start would turn a rollout into a crash loop.
          opts.logger?.warn({ schema, unknown: ahead.unknown }, 'database schema is ahead of this code; not migrating');
          return { applied: [] };
        }
        const migrator = new Migrator({
          db: conn,
          provider: { getMigrations: () => Promise.resolve(migrations) },
          migrationTableSchema: schema,
        });
        const { error, results } = await migrator.migrateToLatest();
        if (error !== undefined) throw migrationError(schema, error, results ?? []);
        return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
      } finally {
        // The connection goes back to the pool: restore the pool's startup settings.
        await sql`reset statement_timeout`.execute(conn).catch(() => undefined);
        await sql`reset search_path`.execute(conn).catch(() => undefined);
      }
    });
}

function migrationError(schema: string, error: unknown, results: readonly MigrationResult[]): MigrationError {
  const failed = results.find((r) => r.status === 'Error')?.migrationName;
  const rolledBack = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const cause = error instanceof Error ? error.message : String(error);
  const what = failed ? `migration ${schema}/${failed} failed: ${cause}` : `migrating schema ${schema} failed: ${cause}`;
  const undone = rolledBack.length > 0 ? `; rolled back with it: ${rolledBack.join(', ')}` : '';
  return new MigrationError(`${what}${undone} (nothing from this run was applied)`, schema, failed, error);
}

export interface MigrationStatus {
  /** Applied migrations this code knows, in order. */
  applied: string[];
  /** Known migrations not applied yet, in the order they will run. */
  pending: string[];
  /** Applied in the database but absent from this code (the database is ahead of it). */
  unknown: string[];
}

/** What `migrateToLatest` would do, without taking the lock or changing anything. */
export async function migrationStatus<DB>(
  db: Database<DB> | Kysely<DB>,
  opts: Omit<MigrateOptions, 'logger'>,
): Promise<MigrationStatus> {
  assertSchemaName(opts.schema);
  assertMigrationNames(opts.schema, opts.migrations);
  return readStatus(kyselyOf(db), opts.schema, opts.migrations);
}

async function readStatus(db: Kysely<unknown>, schema: string, migrations: Migrations): Promise<MigrationStatus> {
  const { rows: tables } = await sql<{ exists: boolean }>`
    select to_regclass(${`${schema}.kysely_migration`}) is not null as exists`.execute(db);
  const rows = tables[0]?.exists
    ? (await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')} order by name`.execute(db)).rows
    : [];
  const done = new Set(rows.map((r) => r.name));
  const known = Object.keys(migrations).sort();
  return {
    applied: known.filter((n) => done.has(n)),
    pending: known.filter((n) => !done.has(n)),
    unknown: [...done].filter((n) => !(n in migrations)).sort(),
  };
}
