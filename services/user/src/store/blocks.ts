import type { Db } from './profiles.js';

export interface BlockRow {
  readonly blocked_id: string;
  readonly create_time: Date;
  /** The blocked person's, from their profile (null once purged, kept empty for deleted accounts by the caller). */
  readonly handle: string | null;
  readonly display_name: string;
  readonly state: string;
}

/** users.blocks: (blocker, blocked) pairs; a pair in either order hides the two from each other. */
export const blockStore = {
  async find(db: Db, blockerId: string, blockedId: string): Promise<{ create_time: Date } | undefined> {
    return db
      .selectFrom('blocks')
      .select('create_time')
      .where('blocker_id', '=', blockerId)
      .where('blocked_id', '=', blockedId)
      .executeTakeFirst();
  },

  /** The existing or new block's time. Idempotent: a second insert keeps the first time. */
  async insert(db: Db, blockerId: string, blockedId: string, now: Date): Promise<{ created: boolean; createTime: Date }> {
    const row = await db
      .insertInto('blocks')
      .values({ blocker_id: blockerId, blocked_id: blockedId, create_time: now })
      .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
      .returning('create_time')
      .executeTakeFirst();
    if (row) return { created: true, createTime: row.create_time };
    const existing = await blockStore.find(db, blockerId, blockedId);
    if (!existing) throw new Error('block vanished during insert');
    return { created: false, createTime: existing.create_time };
  },

  /** True when a block was removed. */
  async delete(db: Db, blockerId: string, blockedId: string): Promise<boolean> {
    const res = await db.deleteFrom('blocks').where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  },

  async countBy(db: Db, blockerId: string): Promise<number> {
    const row = await db
      .selectFrom('blocks')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('blocker_id', '=', blockerId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** The subset of `others` with a block in either direction with `userId`. */
  async blockedAmong(db: Db, userId: string, others: readonly string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    const rows = await db
      .selectFrom('blocks')
      .select('blocked_id as other')
      .where('blocker_id', '=', userId)
      .where('blocked_id', 'in', others)
      .union(db.selectFrom('blocks').select('blocker_id as other').where('blocked_id', '=', userId).where('blocker_id', 'in', others))
      .execute();
    return new Set(rows.map((r) => r.other));
  },

  /** One person's blocks, most recent first, after the (create_time, blocked_id) position `after`. */
  async list(db: Db, blockerId: string, after: { time: Date; id: string } | undefined, limit: number): Promise<BlockRow[]> {
    let q = db
      .selectFrom('blocks as b')
      .innerJoin('profiles as p', 'p.id', 'b.blocked_id')
      .select(['b.blocked_id', 'b.create_time', 'p.handle', 'p.display_name', 'p.state'])
      .where('b.blocker_id', '=', blockerId);
    if (after) {
      q = q.where((eb) =>
        eb.or([eb('b.create_time', '<', after.time), eb.and([eb('b.create_time', '=', after.time), eb('b.blocked_id', '<', after.id)])]),
      );
    }
    return q.orderBy('b.create_time', 'desc').orderBy('b.blocked_id', 'desc').limit(limit).execute();
  },

  /** Every block the person made or received (purge). */
  async deleteAllOf(db: Db, userId: string): Promise<void> {
    await db
      .deleteFrom('blocks')
      .where((eb) => eb.or([eb('blocker_id', '=', userId), eb('blocked_id', '=', userId)]))
      .execute();
  },
};
