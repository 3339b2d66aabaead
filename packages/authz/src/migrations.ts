import { type Database, type Migrations, migrateToLatest } from '@hearth/db';
import { type Kysely, sql } from 'kysely';

/** The schema the authz package owns in the shared database. */
export const AUTHZ_SCHEMA = 'authz';

/**
 * Migrations of the `authz` schema. Tables are created with an explicit schema because queries
 * name them `authz.<table>`: a service's Database has its own schema as the search_path.
 */
export const authzMigrations: Migrations = {
  '2026_11_23_0001_revoked_sessions': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .withSchema(AUTHZ_SCHEMA)
        .createTable('revoked_sessions')
        .addColumn('session_id', 'uuid', (c) => c.primaryKey())
        .addColumn('until', 'timestamptz', (c) => c.notNull())
        .execute();
      // Refills read the live rows and the purge deletes old ones, both by `until`.
      await db.schema.withSchema(AUTHZ_SCHEMA).createIndex('revoked_sessions_until_idx').on('revoked_sessions').column('until').execute();
    },
  },
  // Replicas copy the table by revoke time (ReplicatedSessionDenyList), not by reading it all.
  '2026_11_30_0001_revoke_time': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .withSchema(AUTHZ_SCHEMA)
        .alterTable('revoked_sessions')
        .addColumn('revoke_time', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.withSchema(AUTHZ_SCHEMA).createIndex('revoked_sessions_revoke_time_idx').on('revoked_sessions').column('revoke_time').execute();
    },
  },
};

/** Brings the `authz` schema up to date; idempotent and advisory-locked like every migration run. */
export function migrateAuthz<DB>(
  db: Database<DB> | Kysely<DB>,
  opts: { logger?: Parameters<typeof migrateToLatest>[1]['logger'] } = {},
): Promise<{ applied: string[] }> {
  return migrateToLatest(db, { schema: AUTHZ_SCHEMA, migrations: authzMigrations, ...(opts.logger ? { logger: opts.logger } : {}) });
}
