import { type Insertable, type Updateable, sql } from 'kysely';
import type { ContentState, Db, PostRow, PostsTable } from './schema.js';

/** A page's row with its reactions as `viewerId` sees them, read in the same statement. */
export type TalliedPostRow = PostRow & { readonly reaction_tally: ReadonlyArray<{ readonly kind: number; readonly n: number; readonly mine: boolean }> };

/** The reactions of the row's post as `viewerId` sees them: counts by kind, theirs marked (ReactionKind order). */
const tallyOf = (viewerId: string) => sql<TalliedPostRow['reaction_tally']>`(
  select coalesce(json_agg(json_build_object('kind', t.kind, 'n', t.n, 'mine', t.mine) order by t.kind), '[]'::json)
  from (select kind, count(*)::int as n, bool_or(user_id = ${viewerId}::uuid) as mine
        from post_reactions r where r.post_id = posts.id group by kind) t)`;

/** Where a newest-first page continues: after this (create_time, id). */
export interface TimePosition {
  readonly time: Date;
  readonly id: string;
}

/** posts.posts. Expired posts are left out of every read here, at their time, not by a job. */
export const postStore = {
  /** Stores a post unless the author already used its idempotency key; undefined then. */
  async insert(db: Db, row: Insertable<PostsTable>): Promise<PostRow | undefined> {
    return db
      .insertInto('posts')
      .values(row)
      .onConflict((oc) => oc.columns(['author_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  async findByKey(db: Db, authorId: string, key: string): Promise<PostRow | undefined> {
    return db.selectFrom('posts').selectAll().where('author_id', '=', authorId).where('idempotency_key', '=', key).executeTakeFirst();
  },

  /** A post that has not expired at `now` (locked for the transaction with `forUpdate`). */
  async find(db: Db, id: string, now: Date, opts: { forUpdate?: boolean } = {}): Promise<PostRow | undefined> {
    let q = db
      .selectFrom('posts')
      .selectAll()
      .where('id', '=', id)
      .where((eb) => eb.or([eb('expire_time', 'is', null), eb('expire_time', '>', now)]));
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** Moves a post's count of published responses (not its version: responses do not change it). */
  async addResponses(db: Db, id: string, delta: number): Promise<void> {
    await db.updateTable('posts').set({ response_count: sql<number>`greatest(response_count + ${delta}, 0)` }).where('id', '=', id).execute();
  },

  /**
   * Deletes up to `limit` posts deleted before `deletedBefore` or expired by `now` (their
   * responses and reactions go with them: foreign keys cascade); returns how many.
   */
  async purgeDue(db: Db, opts: { now: Date; deletedBefore: Date; limit: number }): Promise<number> {
    const { rows } = await sql<{ id: string }>`
      delete from posts where id in (
        select id from posts
        where (state = 'deleted' and delete_time < ${opts.deletedBefore}) or expire_time <= ${opts.now}
        limit ${opts.limit}
        for update skip locked
      ) returning id`.execute(db);
    return rows.length;
  },

  /** Deletes the tombstones of responses deleted before `deletedBefore`. */
  async purgeDeletedResponses(db: Db, deletedBefore: Date): Promise<void> {
    await db.deleteFrom('responses').where('state', '=', 'deleted').where('delete_time', '<', deletedBefore).execute();
  },

  /** Changes a post; its version grows by one. */
  async update(db: Db, id: string, patch: Omit<Updateable<PostsTable>, 'version'>): Promise<PostRow> {
    return db
      .updateTable('posts')
      .set({ ...patch, version: sql<string>`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /**
   * The published, unexpired posts of several circles, newest first, after `after`, at most
   * `limit`: the newest `limit` of each circle by its own index, merged, so a page costs the
   * same however deep it is.
   */
  async feedPage(db: Db, circleIds: readonly string[], opts: { after: TimePosition | undefined; limit: number; now: Date; viewerId: string }): Promise<TalliedPostRow[]> {
    if (circleIds.length === 0) return [];
    const after = opts.after ? sql`and (create_time, id) < (${opts.after.time}, ${opts.after.id}::uuid)` : sql``;
    // The candidates come from the index alone (posts_circle_time_idx includes expire_time);
    // only the page's own rows are read from the table.
    const { rows } = await sql<TalliedPostRow>`
      with page as (
        select p.create_time, p.id from unnest(${[...circleIds]}::uuid[]) as c(id)
        cross join lateral (
          select create_time, id from posts
          where circle_id = c.id and state = 'published' and (expire_time is null or expire_time > ${opts.now}) ${after}
          order by create_time desc, id desc
          limit ${opts.limit}
        ) p
        order by p.create_time desc, p.id desc
        limit ${opts.limit}
      )
      select posts.*, ${tallyOf(opts.viewerId)} as reaction_tally from page join posts on posts.id = page.id
      order by page.create_time desc, page.id desc`.execute(db);
    return rows;
  },

  /**
   * One author's unexpired posts in `states`, newest first, after `after`, at most `limit`;
   * anonymous ones only with `anonymous`.
   */
  async authorPage(
    db: Db,
    authorId: string,
    opts: { after: TimePosition | undefined; limit: number; now: Date; states: readonly ContentState[]; anonymous: boolean; viewerId: string },
  ): Promise<TalliedPostRow[]> {
    let q = db
      .selectFrom('posts')
      .selectAll()
      .select(tallyOf(opts.viewerId).as('reaction_tally'))
      .where('author_id', '=', authorId)
      .where('state', 'in', [...opts.states])
      .where((eb) => eb.or([eb('expire_time', 'is', null), eb('expire_time', '>', opts.now)]));
    if (!opts.anonymous) q = q.where('anonymous', '=', false);
    if (opts.after) q = q.where(sql<boolean>`(create_time, id) < (${opts.after.time}, ${opts.after.id}::uuid)`);
    return q.orderBy('create_time', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  },

  /**
   * A circle's published, unexpired posts, newest first, after `after`, at most `limit`;
   * `publicOnly` for readers who are not members.
   */
  async circlePage(
    db: Db,
    circleId: string,
    opts: { after: TimePosition | undefined; limit: number; publicOnly: boolean; now: Date; viewerId: string },
  ): Promise<TalliedPostRow[]> {
    let q = db
      .selectFrom('posts')
      .selectAll()
      .select(tallyOf(opts.viewerId).as('reaction_tally'))
      .where('circle_id', '=', circleId)
      .where('state', '=', 'published')
      .where((eb) => eb.or([eb('expire_time', 'is', null), eb('expire_time', '>', opts.now)]));
    if (opts.publicOnly) q = q.where('visibility', '=', 'public');
    if (opts.after) q = q.where(sql<boolean>`(create_time, id) < (${opts.after.time}, ${opts.after.id}::uuid)`);
    return q.orderBy('create_time', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  },
};
