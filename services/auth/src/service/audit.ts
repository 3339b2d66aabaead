import type { CommitHooks } from '@hearth/db';
import type { Db } from '../store/accounts.js';
import { auditStore } from '../store/audit.js';

export type AuditType =
  | 'register'
  | 'login_ok'
  | 'login_failed'
  | 'refresh'
  | 'refresh_reuse_detected'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'password_changed'
  | 'oauth_login_ok'
  | 'oauth_register'
  | 'oauth_failed'
  | 'identity_linked'
  | 'identity_unlinked'
  // Internal calls from UserService (service/access-service.ts).
  | 'account_access_changed'
  | 'user_sessions_revoked'
  | 'role_removed'
  | 'account_suspended'
  | 'account_deleted';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Who and where a call came from: the handler builds it from the Connect context. */
export interface RequestMeta {
  readonly ip: string;
  readonly userAgent: string;
  readonly requestId: string | null;
  /** The request's logger (tagged with rpc and request id). */
  readonly logger: AuditLogger;
}

export interface AuditEvent {
  readonly type: AuditType;
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  /** Never secrets, emails or tokens: ids, counts, reasons. */
  readonly detail?: Record<string, unknown>;
}

const WARN: ReadonlySet<AuditType> = new Set(['login_failed', 'refresh_reuse_detected', 'oauth_failed']);

/**
 * The security audit trail: a row in auth.audit_events (in the caller's transaction, so it
 * exists exactly when the change does) and a structured log line, written after commit when `db`
 * is a transaction. Both carry user ids, never emails or tokens.
 */
export function recordAudit(db: Db | (Db & CommitHooks), meta: RequestMeta, event: AuditEvent, now: Date): Promise<void> {
  const tx = 'onCommit' in db ? db : undefined;
  const log = () => {
    const line = { audit: event.type, userId: event.userId ?? undefined, sessionId: event.sessionId ?? undefined, ip: meta.ip, ...event.detail };
    if (WARN.has(event.type)) meta.logger.warn(line, `auth: ${event.type}`);
    else meta.logger.info(line, `auth: ${event.type}`);
  };
  if (tx) tx.onCommit(log);
  return auditStore
    .insert(db, {
      at: now,
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      ip: meta.ip,
      userAgent: meta.userAgent,
      requestId: meta.requestId,
      detail: event.detail ?? {},
    })
    .then(() => {
      if (!tx) log();
    });
}
