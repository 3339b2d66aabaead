import { type Kysely, sql } from 'kysely';

/** The audit table takes the shape every service shares (@hearth/db createAuditTable). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_events alter column target drop not null`.execute(db);
  await sql`alter table audit_events add column scope uuid`.execute(db);
  await sql`alter table audit_events add column request_id text`.execute(db);
  await sql`alter table audit_events alter column reason set default ''`.execute(db);
  await db.schema.createIndex('audit_events_scope_idx').on('audit_events').columns(['scope', 'create_time']).execute();
}
