import { type Kysely, sql } from 'kysely';

/**
 * Who removed, banned, muted or promoted whom, and why; and what platform moderators read in
 * circles they are not members of. Append-only; reasons are never shown to the people they
 * concern.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // A user id, or "service:<name>" when another Hearth service acted.
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('circle_id', 'uuid', (c) => c.notNull())
    .addColumn('target', 'uuid')
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_circle_idx').on('audit_events').columns(['circle_id', 'create_time']).execute();
}
