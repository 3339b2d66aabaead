import type { Db } from './schema.js';

/** What the caller sees of a post's reactions: counts by kind and their own kinds, ascending. */
export interface ReactionTally {
  readonly counts: ReadonlyArray<{ readonly kind: number; readonly count: number }>;
  readonly mine: readonly number[];
}

const NONE: ReactionTally = { counts: [], mine: [] };

/** posts.post_reactions. */
export const reactionStore = {
  /** False when the person had already added that kind. */
  async add(db: Db, r: { post_id: string; user_id: string; kind: number; create_time: Date }): Promise<boolean> {
    const res = await db.insertInto('post_reactions').values(r).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return (res.numInsertedOrUpdatedRows ?? 0n) > 0n;
  },

  async remove(db: Db, postId: string, userId: string, kind: number): Promise<void> {
    await db.deleteFrom('post_reactions').where('post_id', '=', postId).where('user_id', '=', userId).where('kind', '=', kind).execute();
  },

  /** The tallies of several posts as `viewerId` sees them, in one query. */
  async tallies(db: Db, postIds: readonly string[], viewerId: string): Promise<Map<string, ReactionTally>> {
    const out = new Map<string, ReactionTally>();
    if (postIds.length === 0) return out;
    const rows = await db
      .selectFrom('post_reactions')
      .select((eb) => ['post_id', 'kind', eb.fn.countAll<string>().as('n'), eb.fn.max(eb.case().when('user_id', '=', viewerId).then(1).else(0).end()).as('mine')])
      .where('post_id', 'in', [...postIds])
      .groupBy(['post_id', 'kind'])
      .orderBy('post_id')
      .orderBy('kind')
      .execute();
    for (const r of rows) {
      const t = out.get(r.post_id) ?? { counts: [], mine: [] };
      out.set(r.post_id, {
        counts: [...t.counts, { kind: r.kind, count: Number(r.n) }],
        mine: Number(r.mine) === 1 ? [...t.mine, r.kind] : t.mine,
      });
    }
    return out;
  },

  none(): ReactionTally {
    return NONE;
  },
};
