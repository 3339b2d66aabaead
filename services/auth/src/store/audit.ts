import { newId } from '@hearth/db';
import type { Db } from './accounts.js';

export interface AuditRow {
  readonly at: Date;
  readonly type: string;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly ip: string;
  readonly userAgent: string;
  readonly requestId: string | null;
  readonly detail: Record<string, unknown>;
}

/** auth.audit_events: append-only. */
export const auditStore = {
  async insert(db: Db, e: AuditRow): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        id: newId(),
        at: e.at,
        type: e.type,
        user_id: e.userId,
        session_id: e.sessionId,
        ip: e.ip,
        user_agent: e.userAgent,
        request_id: e.requestId,
        detail: JSON.stringify(e.detail),
      })
      .execute();
  },
};
