import { type Kysely, sql } from 'kysely';
import { newId } from './ids.js';

/**
 * The audit table every service that records who did what keeps in its own schema (created by
 * `createAuditTable` in a migration). Append-only: rows are never updated or deleted by the
 * service, only by retention.
 */
export interface AuditEventsTable {
  id: string;
  create_time: Date;
  /** A user id, or "service:<name>" when another Hearth service acted. */
  actor: string;
  /** What was done, e.g. "member.ban". */
  action: string;
  /** The user (or other resource) acted on, when there is one. */
  target: string | null;
  /** The resource the action happened in (a circle), when there is one. */
  scope: string | null;
  reason: string;
  details: unknown;
  request_id: string | null;
}

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target?: string | undefined;
  readonly scope?: string | undefined;
  readonly reason?: string | undefined;
  readonly details?: Record<string, unknown> | undefined;
  readonly requestId?: string | undefined;
  readonly at: Date;
}

/** Appends one audit row; pass the change's transaction so the row commits with it. */
export async function writeAudit<DB extends { audit_events: AuditEventsTable }>(db: Kysely<DB>, e: AuditEntry): Promise<void> {
  // Kysely's types are invariant in the schema; this writes one table every such schema has.
  await (db as unknown as Kysely<{ audit_events: AuditEventsTable }>)
    .insertInto('audit_events')
    .values({
      id: newId(),
      create_time: e.at,
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      scope: e.scope ?? null,
      reason: e.reason ?? '',
      details: JSON.stringify(e.details ?? {}),
      request_id: e.requestId ?? null,
    })
    .execute();
}

/** The migration step that creates the audit table (for a new service's first migration). */
export async function createAuditTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'uuid')
    .addColumn('scope', 'uuid')
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('request_id', 'text')
    .execute();
  await db.schema.createIndex('audit_events_target_idx').on('audit_events').columns(['target', 'create_time']).execute();
  await db.schema.createIndex('audit_events_scope_idx').on('audit_events').columns(['scope', 'create_time']).execute();
}
