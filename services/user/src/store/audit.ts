import { writeAudit } from '@hearth/db';
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

/** users.audit_events (the shared audit shape): append-only. */
export const auditStore = {
  async insert(db: Db, e: AuditEvent): Promise<void> {
    await writeAudit(db, { actor: e.actor, action: e.action, target: e.target, reason: e.reason, details: e.details, at: e.now });
  },

  async forTarget(db: Db, target: string): Promise<AuditEventRow[]> {
    return db.selectFrom('audit_events').selectAll().where('target', '=', target).orderBy('create_time').orderBy('id').execute();
  },
};
