import { type ExpressionBuilder, sql } from 'kysely';
import type { CirclesTables, Db, InviteRow } from './schema.js';

export interface InvitePosition {
  readonly time: Date;
  readonly code: string;
}

/** Neither revoked, expired nor used up at `now`. */
function usable(now: Date) {
  return (eb: ExpressionBuilder<CirclesTables, 'invites'>) =>
    eb.and([
      eb('revoke_time', 'is', null),
      eb('expire_time', '>', now),
      eb.or([eb('max_uses', '=', 0), eb('use_count', '<', eb.ref('max_uses'))]),
    ]);
}

/** circles.invites. Use counts change only under the circle's row lock. */
export const inviteStore = {
  async insert(db: Db, row: Omit<InviteRow, 'use_count' | 'revoke_time'>): Promise<InviteRow> {
    return db.insertInto('invites').values(row).returningAll().executeTakeFirstOrThrow();
  },

  async find(db: Db, code: string): Promise<InviteRow | undefined> {
    return db.selectFrom('invites').selectAll().where('code', '=', code).executeTakeFirst();
  },

  async findByIdempotencyKey(db: Db, circleId: string, creatorId: string, key: string): Promise<InviteRow | undefined> {
    return db
      .selectFrom('invites')
      .selectAll()
      .where('circle_id', '=', circleId)
      .where('creator_id', '=', creatorId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
  },

  async countUsable(db: Db, circleId: string, now: Date): Promise<number> {
    const row = await db
      .selectFrom('invites')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('circle_id', '=', circleId)
      .where(usable(now))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Usable invites, newest first. */
  async listUsable(db: Db, circleId: string, now: Date, opts: { after?: InvitePosition; limit: number }): Promise<InviteRow[]> {
    let q = db.selectFrom('invites').selectAll().where('circle_id', '=', circleId).where(usable(now));
    const after = opts.after;
    if (after) q = q.where((eb) => sql<boolean>`(${eb.ref('create_time')}, ${eb.ref('code')}) < (${after.time}, ${after.code})`);
    return q.orderBy('create_time', 'desc').orderBy('code', 'desc').limit(opts.limit).execute();
  },

  async revoke(db: Db, code: string, now: Date): Promise<InviteRow> {
    return db.updateTable('invites').set({ revoke_time: now }).where('code', '=', code).returningAll().executeTakeFirstOrThrow();
  },

  async use(db: Db, code: string): Promise<void> {
    await db
      .updateTable('invites')
      .set({ use_count: sql`use_count + 1` })
      .where('code', '=', code)
      .execute();
  },
};
