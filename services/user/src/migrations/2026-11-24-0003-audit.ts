import { type Kysely, sql } from 'kysely';

/** Who changed whose roles or account state, and why. Append-only. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // A user id, or "service:<name>" when another Hearth service acted.
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'uuid', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_target_idx').on('audit_events').columns(['target', 'create_time']).execute();
}
