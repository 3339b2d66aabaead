import { type Kysely, sql } from 'kysely';

/**
 * The audit table takes the shape every service shares (@hearth/db createAuditTable): the circle
 * becomes the event's `scope`, and the request id is kept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_events rename column circle_id to scope`.execute(db);
  await sql`alter table audit_events alter column scope drop not null`.execute(db);
  await sql`alter table audit_events add column request_id text`.execute(db);
  await sql`alter index audit_events_circle_idx rename to audit_events_scope_idx`.execute(db);
  await db.schema.createIndex('audit_events_target_idx').on('audit_events').columns(['target', 'create_time']).execute();
}
