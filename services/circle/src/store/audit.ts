import { newId } from '@hearth/db';
import type { AuditEventsTable, Db } from './schema.js';

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
  | 'account.removed';

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

/** circles.audit_events: append-only. */
export const auditStore = {
  async insert(db: Db, e: AuditEvent): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        id: newId(),
        actor: e.actor,
        action: e.action,
        circle_id: e.circleId,
        target: e.target ?? null,
        reason: e.reason ?? '',
        details: JSON.stringify(e.details ?? {}),
        create_time: e.now,
      })
      .execute();
  },

  async forCircle(db: Db, circleId: string): Promise<Array<Pick<AuditEventsTable, 'actor' | 'action' | 'target' | 'reason'>>> {
    return db
      .selectFrom('audit_events')
      .select(['actor', 'action', 'target', 'reason'])
      .where('circle_id', '=', circleId)
      .orderBy('create_time')
      .orderBy('id')
      .execute();
  },
};
