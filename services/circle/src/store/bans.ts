import { sql } from 'kysely';
import type { BanRow, Db } from './schema.js';

export interface BanPosition {
  readonly time: Date;
  readonly id: string;
}

/** circles.bans: who may not join a circle again until unbanned. */
export const banStore = {
  async find(db: Db, circleId: string, userId: string): Promise<BanRow | undefined> {
    return db.selectFrom('bans').selectAll().where('circle_id', '=', circleId).where('user_id', '=', userId).executeTakeFirst();
  },

  /** An existing ban stays as it was (who banned first, and why). False when there was one. */
  async insert(db: Db, ban: BanRow): Promise<boolean> {
    const res = await db.insertInto('bans').values(ban).onConflict((oc) => oc.columns(['circle_id', 'user_id']).doNothing()).executeTakeFirst();
    return (res.numInsertedOrUpdatedRows ?? 0n) > 0n;
  },

  /** False when the person was not banned. */
  async delete(db: Db, circleId: string, userId: string): Promise<boolean> {
    const res = await db.deleteFrom('bans').where('circle_id', '=', circleId).where('user_id', '=', userId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  },

  /** Most recent first. */
  async list(db: Db, circleId: string, opts: { after?: BanPosition; limit: number }): Promise<BanRow[]> {
    let q = db.selectFrom('bans').selectAll().where('circle_id', '=', circleId);
    const after = opts.after;
    if (after) q = q.where((eb) => sql<boolean>`(${eb.ref('create_time')}, ${eb.ref('user_id')}) < (${after.time}, ${after.id})`);
    return q.orderBy('create_time', 'desc').orderBy('user_id', 'desc').limit(opts.limit).execute();
  },
};
