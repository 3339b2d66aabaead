import type { Kysely } from 'kysely';

/**
 * Safety plans: one per person, the whole plan sealed as one document (AES-256-GCM, @hearth/db
 * FieldCipher, the person's id as associated data, the ring key in `key_id`). Deleting a plan
 * deletes the row: nobody else ever reads it, so nothing is kept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('safety_plans')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey())
    .addColumn('plan', 'bytea', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'timestamptz', (c) => c.notNull())
    .execute();
}
