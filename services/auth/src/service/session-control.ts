import { Code, ConnectError } from '@connectrpc/connect';
import type { Identity } from '@hearth/authz';
import { type Database, type PageCodec, pageSizeOf } from '@hearth/db';
import type { AuthLimits } from '../limits/types.js';
import { accountStore } from '../store/accounts.js';
import type { AuthTables, SessionRow } from '../store/schema.js';
import { type SessionPosition, refreshTokenStore, sessionStore } from '../store/sessions.js';
import { type RequestMeta, recordAudit } from './audit.js';
import { sha256 } from './crypto.js';
import { type IssuedTokens, type Sessions, type StartedSession, unauthenticated } from './sessions.js';
import { toRoles } from './tokens.js';

export interface SessionControlDeps {
  readonly db: Database<AuthTables>;
  readonly sessions: Sessions;
  readonly limits: AuthLimits;
  readonly now: () => Date;
  /** ListSessions' page tokens: the last session's last use and id. */
  readonly pages: PageCodec<{ t: Date; id: string }>;
}

export interface SessionPage {
  readonly sessions: readonly SessionRow[];
  readonly nextPageToken: string;
}

const INVALID_REFRESH = 'invalid refresh token';
const DEFAULT_PAGE_SIZE = 50;

type RefreshOutcome =
  | { kind: 'ok'; started: StartedSession; userId: string; roles: readonly string[] }
  | { kind: 'reuse' }
  | { kind: 'invalid' };

/** Refresh-token rotation and the caller's sessions: Refresh, Logout, LogoutAll, ListSessions, RevokeSession. */
export class SessionControl {
  constructor(private readonly d: SessionControlDeps) {}

  /**
   * Rotates the refresh token. The token row is locked (FOR UPDATE), so of two concurrent
   * refreshes of one token exactly one rotates it; the other then finds it rotated, which is
   * what a stolen copy looks like, so the session is revoked. Honest clients serialise their
   * refreshes (the SDK does); there is no grace window, because a window would let a copied
   * token race its owner and fork the family undetected.
   */
  async refresh(token: string, meta: RequestMeta): Promise<IssuedTokens> {
    await this.d.limits.consumeRefresh(meta.ip);
    const now = this.d.now();
    const hash = sha256(token);
    const outcome = await this.d.db.transaction(async (tx): Promise<RefreshOutcome> => {
      const row = await refreshTokenStore.findForUpdate(tx, hash);
      if (!row) return { kind: 'invalid' };
      const session = await sessionStore.findById(tx, row.session_id, { forUpdate: true });
      if (!session || session.revoked_at) return { kind: 'invalid' };
      const userId = session.user_id;
      if (row.rotated_at) {
        await this.d.sessions.revoke(tx, {
          sessionId: session.id,
          userId,
          reason: 'refresh_reuse_detected',
          meta,
          now,
          detail: { rotatedAt: row.rotated_at.toISOString() },
        });
        return { kind: 'reuse' };
      }
      if (row.expires_at <= now || session.idle_expires_at <= now || session.absolute_expires_at <= now) return { kind: 'invalid' };
      const account = await accountStore.findById(tx, userId);
      if (!account || account.state !== 'active') {
        await this.d.sessions.revoke(tx, { sessionId: session.id, userId, reason: 'session_revoked', meta, now, detail: { why: 'account_inactive' } });
        return { kind: 'invalid' };
      }
      const next = this.d.sessions.tokens.refresh();
      const expiresAt = this.d.sessions.refreshExpiry(now, session.absolute_expires_at);
      await refreshTokenStore.insert(tx, { tokenHash: next.hash, sessionId: session.id, now, expiresAt });
      await refreshTokenStore.markRotated(tx, hash, next.hash, now);
      await sessionStore.touch(tx, session.id, { now, idleExpiresAt: expiresAt, ip: meta.ip, userAgent: meta.userAgent.slice(0, 256) });
      await recordAudit(tx, meta, { type: 'refresh', userId, sessionId: session.id }, now);
      return { kind: 'ok', started: { sessionId: session.id, refreshToken: next.token, refreshExpiresAt: expiresAt }, userId, roles: account.roles };
    });
    if (outcome.kind !== 'ok') throw unauthenticated(INVALID_REFRESH);
    return this.d.sessions.issue(outcome.started, outcome.userId, toRoles(outcome.roles), now);
  }

  /**
   * Ends the caller's session, named by the access token or else by a refresh token (any token
   * of the family, rotated or not: holding one proves the session, and ending it is harmless).
   * Idempotent; Unauthenticated only when nothing names a session.
   */
  async logout(identity: Identity | undefined, refreshToken: string | undefined, meta: RequestMeta): Promise<void> {
    let target: { sessionId: string; userId: string } | undefined;
    if (identity) target = { sessionId: identity.sessionId, userId: identity.userId };
    else if (refreshToken) {
      const row = await refreshTokenStore.find(this.d.db.db, sha256(refreshToken));
      const session = row && (await sessionStore.findById(this.d.db.db, row.session_id));
      if (session) target = { sessionId: session.id, userId: session.user_id };
    }
    if (!target) throw unauthenticated('no session to end');
    const now = this.d.now();
    const { sessionId, userId } = target;
    await this.d.db.transaction((tx) => this.d.sessions.revoke(tx, { sessionId, userId, reason: 'logout', meta, now }));
  }

  async logoutAll(identity: Identity, keepCurrent: boolean, meta: RequestMeta): Promise<number> {
    const now = this.d.now();
    return this.d.db.transaction((tx) =>
      this.d.sessions.revokeAll(tx, {
        userId: identity.userId,
        keep: keepCurrent ? identity.sessionId : undefined,
        reason: 'logout_all',
        meta,
        now,
      }),
    );
  }

  async list(identity: Identity, pageSize: number, pageToken: string): Promise<SessionPage> {
    const limit = pageSizeOf(pageSize, DEFAULT_PAGE_SIZE);
    const token = this.d.pages.decode(pageToken);
    const after: SessionPosition | undefined = token ? { lastUsedAt: token.t, id: token.id } : undefined;
    const rows = await sessionStore.listLive(this.d.db.db, identity.userId, this.d.now(), limit + 1, after);
    const { items, next } = this.d.pages.page(rows, limit, (r) => ({ t: r.last_used_at, id: r.id }));
    return { sessions: items, nextPageToken: next };
  }

  /** Ends one of the caller's sessions; true when it was the calling session. */
  async revokeSession(identity: Identity, sessionId: string, meta: RequestMeta): Promise<{ current: boolean }> {
    const now = this.d.now();
    await this.d.db.transaction(async (tx) => {
      const session = await sessionStore.findById(tx, sessionId, { forUpdate: true });
      // Another user's session is indistinguishable from none.
      if (!session || session.user_id !== identity.userId) throw new ConnectError('session not found', Code.NotFound);
      await this.d.sessions.revoke(tx, { sessionId, userId: identity.userId, reason: 'session_revoked', meta, now });
    });
    return { current: sessionId === identity.sessionId };
  }
}
