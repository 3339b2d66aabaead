import { newId } from '@hearth/db';
import type { Db } from './profiles.js';
import type { AuditEventRow } from './schema.js';

export interface AuditEvent {
  /** A user id, or "service:<name>". */
  readonly actor: string;
  readonly action: 'roles.set' | 'state.set';
  readonly target: string;
  readonly reason: string;
  readonly details: Record<string, unknown>;
  readonly now: Date;
}

/** users.audit_events: append-only. */
export const auditStore = {
  async insert(db: Db, e: AuditEvent): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        id: newId(),
        actor: e.actor,
        action: e.action,
        target: e.target,
        reason: e.reason,
        details: JSON.stringify(e.details),
        create_time: e.now,
      })
      .execute();
  },

  async forTarget(db: Db, target: string): Promise<AuditEventRow[]> {
    return db.selectFrom('audit_events').selectAll().where('target', '=', target).orderBy('create_time').orderBy('id').execute();
  },
};
