import { sql } from 'kysely';
import type { Db, MemberRow, Role } from './schema.js';

/** A position in ListMembers order: role rank (owner 1, host 2, member 3), then join time, then user id. */
export interface MemberPosition {
  readonly rank: number;
  readonly time: Date;
  readonly id: string;
}

export const ROLE_RANK: Readonly<Record<Role, number>> = { owner: 1, host: 2, member: 3 };

/** circles.members: one row per person in a circle (banned people have none). */
export const memberStore = {
  async insert(db: Db, m: { circleId: string; userId: string; role: Role; now: Date }): Promise<MemberRow> {
    return db
      .insertInto('members')
      .values({ circle_id: m.circleId, user_id: m.userId, role: m.role, join_time: m.now, mute_expire_time: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async find(db: Db, circleId: string, userId: string, opts: { forUpdate?: boolean } = {}): Promise<MemberRow | undefined> {
    let q = db.selectFrom('members').selectAll().where('circle_id', '=', circleId).where('user_id', '=', userId);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** False when the person was not a member. */
  async delete(db: Db, circleId: string, userId: string): Promise<boolean> {
    const res = await db.deleteFrom('members').where('circle_id', '=', circleId).where('user_id', '=', userId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  },

  /** A change to the role or mute: the member's version grows by one. */
  async update(
    db: Db,
    circleId: string,
    userId: string,
    changes: { role?: Role; mute_expire_time?: Date | null },
  ): Promise<MemberRow> {
    return db
      .updateTable('members')
      .set({ ...changes, version: sql`version + 1` })
      .where('circle_id', '=', circleId)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** Owner first, then hosts, then members, each oldest first. */
  async list(db: Db, circleId: string, opts: { role?: Role; after?: MemberPosition; limit: number }): Promise<MemberRow[]> {
    let q = db.selectFrom('members').selectAll().where('circle_id', '=', circleId);
    if (opts.role) q = q.where('role', '=', opts.role);
    const after = opts.after;
    if (after) {
      q = q.where(
        (eb) => sql<boolean>`(${eb.ref('role_rank')}, ${eb.ref('join_time')}, ${eb.ref('user_id')}) > (${after.rank}, ${after.time}, ${after.id})`,
      );
    }
    return q.orderBy('role_rank').orderBy('join_time').orderBy('user_id').limit(opts.limit).execute();
  },

  /** The host who has been in the circle longest (the heir when an owner's account goes). */
  async longestServingHost(db: Db, circleId: string): Promise<MemberRow | undefined> {
    return db
      .selectFrom('members')
      .selectAll()
      .where('circle_id', '=', circleId)
      .where('role', '=', 'host')
      .orderBy('join_time')
      .orderBy('user_id')
      .limit(1)
      .executeTakeFirst();
  },

  /** The circles `userId` is in, most recently joined first, at most `limit`. */
  async recentCircleIdsOf(db: Db, userId: string, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('members')
      .select('circle_id')
      .where('user_id', '=', userId)
      .orderBy('join_time', 'desc')
      .orderBy('circle_id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.circle_id);
  },

  async circleIdsOf(db: Db, userId: string): Promise<string[]> {
    const rows = await db.selectFrom('members').select('circle_id').where('user_id', '=', userId).orderBy('circle_id').execute();
    return rows.map((r) => r.circle_id);
  },
};
