import type { Db } from './accounts.js';
import type { NewSession, RefreshTokenRow, SessionRow } from './schema.js';

export interface SessionPosition {
  readonly lastUsedAt: Date;
  readonly id: string;
}

/** auth.sessions and auth.refresh_tokens (a session is one refresh-token family). */
export const sessionStore = {
  async insert(db: Db, s: NewSession): Promise<void> {
    await db.insertInto('sessions').values(s).execute();
  },

  async findById(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<SessionRow | undefined> {
    let q = db.selectFrom('sessions').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** Marks the session revoked; false when it already was (idempotent revocation). */
  async revoke(db: Db, id: string, reason: string, now: Date): Promise<boolean> {
    const res = await db
      .updateTable('sessions')
      .set({ revoked_at: now, revoke_reason: reason })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  },

  /** Revokes every unrevoked session of the user except `keep`; returns the ids it revoked. */
  async revokeAllOfUser(db: Db, userId: string, keep: string | undefined, reason: string, now: Date): Promise<string[]> {
    let q = db
      .updateTable('sessions')
      .set({ revoked_at: now, revoke_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (keep !== undefined) q = q.where('id', '!=', keep);
    const rows = await q.returning('id').execute();
    return rows.map((r) => r.id);
  },

  /**
   * Sessions of the user that were revoked at or after `since` (except `keep`): their access
   * tokens may still be unexpired, so a caller that must guarantee they are refused re-denies them.
   */
  async revokedSince(db: Db, userId: string, since: Date, keep: string | undefined): Promise<string[]> {
    let q = db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', '>=', since);
    if (keep !== undefined) q = q.where('id', '!=', keep);
    return (await q.execute()).map((r) => r.id);
  },

  async touch(db: Db, id: string, t: { now: Date; idleExpiresAt: Date; ip: string; userAgent: string }): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ last_used_at: t.now, idle_expires_at: t.idleExpiresAt, ip: t.ip, user_agent: t.userAgent })
      .where('id', '=', id)
      .execute();
  },

  /** Live sessions of the user, most recently used first, after `after` (keyset pagination). */
  async listLive(db: Db, userId: string, now: Date, limit: number, after?: SessionPosition): Promise<SessionRow[]> {
    let q = db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '>', now)
      .where('absolute_expires_at', '>', now);
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('last_used_at', '<', after.lastUsedAt),
          eb.and([eb('last_used_at', '=', after.lastUsedAt), eb('id', '<', after.id)]),
        ]),
      );
    }
    return q.orderBy('last_used_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  },
};

export const refreshTokenStore = {
  async insert(db: Db, t: { tokenHash: Buffer; sessionId: string; now: Date; expiresAt: Date }): Promise<void> {
    await db
      .insertInto('refresh_tokens')
      .values({ token_hash: t.tokenHash, session_id: t.sessionId, created_at: t.now, expires_at: t.expiresAt, rotated_at: null, replaced_by: null })
      .execute();
  },

  /**
   * Locks the token row: two concurrent refreshes of one token serialise here, and the second
   * sees `rotated_at` set by the first.
   */
  async findForUpdate(db: Db, tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
  },

  async find(db: Db, tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  },

  async markRotated(db: Db, tokenHash: Buffer, replacedBy: Buffer, now: Date): Promise<void> {
    await db.updateTable('refresh_tokens').set({ rotated_at: now, replaced_by: replacedBy }).where('token_hash', '=', tokenHash).execute();
  },
};
