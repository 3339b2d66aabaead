import { type Insertable, sql } from 'kysely';
import type { Db, OfferState, SupportOfferRow, SupportOffersTable } from './schema.js';

/** support.support_offers. */
export const offerStore = {
  async insert(db: Db, row: Insertable<SupportOffersTable>): Promise<SupportOfferRow | undefined> {
    return db
      .insertInto('support_offers')
      .values(row)
      .onConflict((oc) => oc.columns(['helper_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  async findByKey(db: Db, helperId: string, key: string): Promise<SupportOfferRow | undefined> {
    return db.selectFrom('support_offers').selectAll().where('helper_id', '=', helperId).where('idempotency_key', '=', key).executeTakeFirst();
  },

  async find(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<SupportOfferRow | undefined> {
    let q = db.selectFrom('support_offers').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** The helper's offered or accepted offer on a request, if any. */
  async live(db: Db, requestId: string, helperId: string): Promise<SupportOfferRow | undefined> {
    return db
      .selectFrom('support_offers')
      .selectAll()
      .where('request_id', '=', requestId)
      .where('helper_id', '=', helperId)
      .where('state', 'in', ['offered', 'accepted'])
      .executeTakeFirst();
  },

  async setState(db: Db, id: string, state: OfferState, at: Date): Promise<SupportOfferRow> {
    return db.updateTable('support_offers').set({ state, update_time: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  },

  /** Every offer `helperId` made (locked with `lock`). */
  async ofHelper(db: Db, helperId: string, opts: { lock: boolean }): Promise<SupportOfferRow[]> {
    const q = db.selectFrom('support_offers').selectAll().where('helper_id', '=', helperId);
    return (opts.lock ? q.forUpdate() : q).execute();
  },

  async deleteOfHelper(db: Db, helperId: string): Promise<number> {
    const res = await db.deleteFrom('support_offers').where('helper_id', '=', helperId).executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  /** Which of `requestIds` have an ACCEPTED offer of `helperId`. */
  async acceptedOf(db: Db, helperId: string, requestIds: readonly string[]): Promise<Set<string>> {
    const rows = await db
      .selectFrom('support_offers')
      .select('request_id')
      .where('helper_id', '=', helperId)
      .where('state', '=', 'accepted')
      .where('request_id', 'in', [...requestIds])
      .execute();
    return new Set(rows.map((r) => r.request_id));
  },

  /** Offers still OFFERED on a request that closed become CLOSED. */
  async closeOffered(db: Db, requestId: string, at: Date): Promise<void> {
    await db.updateTable('support_offers').set({ state: 'closed', update_time: at }).where('request_id', '=', requestId).where('state', '=', 'offered').execute();
  },

  async acceptedCount(db: Db, requestId: string): Promise<number> {
    const row = await db
      .selectFrom('support_offers')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('request_id', '=', requestId)
      .where('state', '=', 'accepted')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** A request's offers, oldest first, after (time, id); only `helperId`'s when given. */
  async page(db: Db, requestId: string, opts: { helperId?: string | undefined; after: { time: Date; id: string } | undefined; limit: number }): Promise<SupportOfferRow[]> {
    let q = db.selectFrom('support_offers').selectAll().where('request_id', '=', requestId);
    if (opts.helperId) q = q.where('helper_id', '=', opts.helperId);
    if (opts.after) q = q.where(sql<boolean>`(create_time, id) > (${opts.after.time}, ${opts.after.id}::uuid)`);
    return q.orderBy('create_time', 'asc').orderBy('id', 'asc').limit(opts.limit).execute();
  },
};
