import { Code, ConnectError } from '@connectrpc/connect';
import type { Role, SessionDenyList } from '@hearth/authz';
import { type Database, type Tx, newId } from '@hearth/db';
import type { Db } from '../store/accounts.js';
import type { AuthTables } from '../store/schema.js';
import { sessionStore, refreshTokenStore } from '../store/sessions.js';
import { type AuditType, type RequestMeta, recordAudit } from './audit.js';
import type { TokenIssuer } from './tokens.js';

export interface SessionPolicy {
  readonly refreshIdleTtlMs: number;
  readonly sessionMaxTtlMs: number;
}

/** What every sign-in and Refresh hands back (the transport decides body or cookies). */
export interface IssuedTokens {
  readonly userId: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly accessExpiresAt: Date;
  readonly refreshToken: string;
  readonly refreshExpiresAt: Date;
}

export interface StartedSession {
  readonly sessionId: string;
  readonly refreshToken: string;
  readonly refreshExpiresAt: Date;
}

/** The user agent is shown in ListSessions; the contract truncates it to 256 characters. */
const MAX_USER_AGENT = 256;

/**
 * Session lifecycle shared by every RPC: starting one (with its first refresh token) and
 * revoking (row + deny-list after commit + audit). Callers pass their transaction, so a
 * session never exists without the change that created it.
 */
export class Sessions {
  constructor(
    readonly db: Database<AuthTables>,
    readonly tokens: TokenIssuer,
    readonly denyList: SessionDenyList,
    readonly policy: SessionPolicy,
  ) {}

  async start(tx: Db, input: { userId: string; deviceName: string; meta: RequestMeta; now: Date }): Promise<StartedSession> {
    const { now } = input;
    const sessionId = newId();
    const absolute = new Date(now.getTime() + this.policy.sessionMaxTtlMs);
    const refreshExpiresAt = this.refreshExpiry(now, absolute);
    await sessionStore.insert(tx, {
      id: sessionId,
      user_id: input.userId,
      device_name: input.deviceName,
      ip: input.meta.ip,
      user_agent: input.meta.userAgent.slice(0, MAX_USER_AGENT),
      created_at: now,
      last_used_at: now,
      idle_expires_at: refreshExpiresAt,
      absolute_expires_at: absolute,
      revoked_at: null,
      revoke_reason: null,
    });
    const refresh = this.tokens.refresh();
    await refreshTokenStore.insert(tx, { tokenHash: refresh.hash, sessionId, now, expiresAt: refreshExpiresAt });
    return { sessionId, refreshToken: refresh.token, refreshExpiresAt };
  }

  /** Sliding idle window, never past the absolute end of the session. */
  refreshExpiry(now: Date, absoluteExpiresAt: Date): Date {
    return new Date(Math.min(now.getTime() + this.policy.refreshIdleTtlMs, absoluteExpiresAt.getTime()));
  }

  /** Signs the access token of a session that `start` or a rotation produced. */
  async issue(s: StartedSession, userId: string, roles: readonly Role[], now: Date): Promise<IssuedTokens> {
    const access = await this.tokens.access({ userId, sessionId: s.sessionId, roles }, now);
    return {
      userId,
      sessionId: s.sessionId,
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      refreshToken: s.refreshToken,
      refreshExpiresAt: s.refreshExpiresAt,
    };
  }

  /**
   * Ends one session inside the caller's transaction. Its access tokens go on the deny-list
   * after commit (never for a change that rolled back). Returns false if it had already ended.
   */
  async revoke(
    tx: Tx<AuthTables>,
    r: { sessionId: string; userId: string; reason: AuditType; meta: RequestMeta; now: Date; detail?: Record<string, unknown> },
  ): Promise<boolean> {
    const changed = await sessionStore.revoke(tx, r.sessionId, r.reason, r.now);
    if (!changed) return false;
    this.#denyAfterCommit(tx, [r.sessionId], r.now, r.meta);
    await recordAudit(tx, r.meta, { type: r.reason, userId: r.userId, sessionId: r.sessionId, detail: r.detail ?? {} }, r.now);
    return true;
  }

  /**
   * Ends every live session of the user except `keep`; one audit event for the lot (none when
   * nothing ended and `quietWhenNone` is set, for calls that are routinely repeated).
   */
  async revokeAll(
    tx: Tx<AuthTables>,
    r: { userId: string; keep: string | undefined; reason: AuditType; meta: RequestMeta; now: Date; detail?: Record<string, unknown>; quietWhenNone?: boolean },
  ): Promise<number> {
    const ids = await sessionStore.revokeAllOfUser(tx, r.userId, r.keep, r.reason, r.now);
    // Sessions another call revoked moments ago (it may still be putting them on the deny-list
    // after its own commit) are denied again here: when this call returns, every session of the
    // user that was revoked is refused, whichever of two concurrent calls got the lock first.
    const since = new Date(r.now.getTime() - this.tokens.accessTtlMs);
    const recent = await sessionStore.revokedSince(tx, r.userId, since, r.keep);
    this.#denyAfterCommit(tx, [...new Set([...ids, ...recent])], r.now, r.meta);
    if (ids.length === 0 && r.quietWhenNone) return 0;
    const detail = { ...r.detail, revokedSessionIds: ids };
    await recordAudit(tx, r.meta, { type: r.reason, userId: r.userId, sessionId: r.keep ?? null, detail }, r.now);
    return ids.length;
  }

  #denyAfterCommit(tx: Tx<AuthTables>, ids: readonly string[], now: Date, meta: RequestMeta): void {
    if (ids.length === 0) return;
    const until = this.tokens.lastAccessExpiry(now);
    tx.onCommit(async () => {
      // The rows say revoked (refresh stops at once); a failure here leaves already-issued access
      // tokens usable until they expire, so it is loud.
      const results = await Promise.allSettled(ids.map((id) => this.denyList.revoke(id, until)));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0) meta.logger.warn({ failed, sessions: ids.length }, 'deny-list write failed after session revocation');
    });
  }
}

export function unauthenticated(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated);
}
