import { type AuditEventsTable, writeAudit } from '@hearth/db';
import type { Db } from './schema.js';

export type AuditAction =
  | 'member.remove'
  | 'member.ban'
  | 'member.unban'
  | 'member.mute'
  | 'member.unmute'
  | 'member.role'
  | 'circle.archive'
  | 'circle.update'
  | 'members.read'
  | 'bans.read'
  | 'account.removed'
  | 'message.delete'
  | 'messages.read';

export interface AuditEvent {
  /** A user id, or "service:<name>". */
  readonly actor: string;
  readonly action: AuditAction;
  readonly circleId: string;
  readonly target?: string;
  readonly reason?: string;
  readonly details?: Record<string, unknown>;
  readonly now: Date;
}

/** circles.audit_events (the shared audit shape; the circle is the scope): append-only. */
export const auditStore = {
  async insert(db: Db, e: AuditEvent): Promise<void> {
    await writeAudit(db, {
      actor: e.actor,
      action: e.action,
      scope: e.circleId,
      target: e.target,
      reason: e.reason,
      details: e.details,
      at: e.now,
    });
  },

  async forCircle(db: Db, circleId: string): Promise<Array<Pick<AuditEventsTable, 'actor' | 'action' | 'target' | 'reason'>>> {
    return db
      .selectFrom('audit_events')
      .select(['actor', 'action', 'target', 'reason'])
      .where('scope', '=', circleId)
      .orderBy('create_time')
      .orderBy('id')
      .execute();
  },
};
