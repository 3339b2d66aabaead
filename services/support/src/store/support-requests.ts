import { type Insertable, type Updateable, sql } from 'kysely';
import type { Db, RequestState, SupportRequestRow, SupportRequestsTable } from './schema.js';

/** Where a most-urgent-first, newest-first page continues. */
export interface RequestPosition {
  readonly urgency: number;
  readonly time: Date;
  readonly id: string;
}

/** support.support_requests. */
export const requestStore = {
  async insert(db: Db, row: Insertable<SupportRequestsTable>): Promise<SupportRequestRow | undefined> {
    return db
      .insertInto('support_requests')
      .values(row)
      .onConflict((oc) => oc.columns(['requester_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  async findByKey(db: Db, requesterId: string, key: string): Promise<SupportRequestRow | undefined> {
    return db.selectFrom('support_requests').selectAll().where('requester_id', '=', requesterId).where('idempotency_key', '=', key).executeTakeFirst();
  },

  async find(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<SupportRequestRow | undefined> {
    let q = db.selectFrom('support_requests').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** How many OPEN or MATCHED requests `requesterId` has. */
  async openCount(db: Db, requesterId: string): Promise<number> {
    const row = await db
      .selectFrom('support_requests')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('requester_id', '=', requesterId)
      .where('state', 'in', ['open', 'matched'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Moves the live-offer count and update time (a helper's change: the version stays). */
  async touch(db: Db, id: string, patch: { offerDelta?: number; state?: RequestState; at: Date }): Promise<SupportRequestRow> {
    return db
      .updateTable('support_requests')
      .set({
        offer_count: sql<number>`greatest(offer_count + ${patch.offerDelta ?? 0}, 0)`,
        update_time: patch.at,
        ...(patch.state ? { state: patch.state } : {}),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** Deletes every request of `requesterId` (their offers go with them); returns how many. */
  async deleteOf(db: Db, requesterId: string): Promise<number> {
    const res = await db.deleteFrom('support_requests').where('requester_id', '=', requesterId).executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  /** Changes a request; its version grows by one. */
  async update(db: Db, id: string, patch: Omit<Updateable<SupportRequestsTable>, 'version'>): Promise<SupportRequestRow> {
    return db
      .updateTable('support_requests')
      .set({ ...patch, version: sql<string>`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** Requests in `circleIds`, most urgent first then newest, after `after`, filtered. */
  async page(
    db: Db,
    opts: { circleIds: readonly string[]; requesterId?: string | undefined; states: readonly RequestState[]; topics: readonly number[]; after: RequestPosition | undefined; limit: number },
  ): Promise<SupportRequestRow[]> {
    if (opts.circleIds.length === 0) return [];
    let q = db.selectFrom('support_requests').selectAll().where('circle_id', 'in', [...opts.circleIds]).where('state', 'in', [...opts.states]);
    if (opts.requesterId) q = q.where('requester_id', '=', opts.requesterId);
    if (opts.topics.length > 0) q = q.where('topic', 'in', [...opts.topics]);
    if (opts.after) {
      const a = opts.after;
      q = q.where(sql<boolean>`(urgency, create_time, id) < (${a.urgency}, ${a.time}, ${a.id}::uuid)`);
    }
    return q.orderBy('urgency', 'desc').orderBy('create_time', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  },
};
