import { type Insertable, type Updateable, sql } from 'kysely';
import type { TimePosition } from './posts.js';
import type { Db, ResponseRow, ResponsesTable } from './schema.js';

/** posts.responses. */
export const responseStore = {
  /** Stores a response unless the author already used its idempotency key; undefined then. */
  async insert(db: Db, row: Insertable<ResponsesTable>): Promise<ResponseRow | undefined> {
    return db
      .insertInto('responses')
      .values(row)
      .onConflict((oc) => oc.columns(['author_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  async findByKey(db: Db, authorId: string, key: string): Promise<ResponseRow | undefined> {
    return db.selectFrom('responses').selectAll().where('author_id', '=', authorId).where('idempotency_key', '=', key).executeTakeFirst();
  },

  async find(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<ResponseRow | undefined> {
    let q = db.selectFrom('responses').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** Changes a response; its version grows by one. */
  async update(db: Db, id: string, patch: Omit<Updateable<ResponsesTable>, 'version'>): Promise<ResponseRow> {
    return db
      .updateTable('responses')
      .set({ ...patch, version: sql<string>`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /**
   * A post's responses, oldest first, after `after`: PUBLISHED ones and `viewerId`'s own in any
   * state but DELETED.
   */
  async page(db: Db, postId: string, opts: { viewerId: string; after: TimePosition | undefined; limit: number }): Promise<ResponseRow[]> {
    let q = db
      .selectFrom('responses')
      .selectAll()
      .where('post_id', '=', postId)
      .where((eb) => eb.or([eb('state', '=', 'published'), eb.and([eb('author_id', '=', opts.viewerId), eb('state', '!=', 'deleted')])]));
    if (opts.after) q = q.where(sql<boolean>`(create_time, id) > (${opts.after.time}, ${opts.after.id}::uuid)`);
    return q.orderBy('create_time', 'asc').orderBy('id', 'asc').limit(opts.limit).execute();
  },
};
