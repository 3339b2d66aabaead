import type { Kysely } from 'kysely';

/**
 * New accounts' profiles now go through the durable job queue (schema auth_jobs), enqueued in
 * the same transaction; nothing reads or writes the outbox any more.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('outbox').ifExists().execute();
}
