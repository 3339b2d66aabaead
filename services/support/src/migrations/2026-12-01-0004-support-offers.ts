import { type Kysely, sql } from 'kysely';

/**
 * Offers of support on requests. Messages sealed (the offer's id as associated data);
 * OfferSupport idempotent by (helper, idempotency_key); a helper has at most one live
 * (offered or accepted) offer per request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('support_offers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('support_requests.id').onDelete('cascade'))
    .addColumn('helper_id', 'uuid', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_digest', 'bytea', (c) => c.notNull())
    .addColumn('digest_key_id', 'text', (c) => c.notNull())
    .addColumn('message', 'bytea', (c) => c.notNull())
    .addColumn('message_key_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('offered').check(sql`state in ('offered', 'accepted', 'withdrawn', 'closed')`))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('update_time', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('support_offers_helper_key', ['helper_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('support_offers_live_idx')
    .unique()
    .on('support_offers')
    .columns(['request_id', 'helper_id'])
    .where(sql<boolean>`state in ('offered', 'accepted')`)
    .execute();
  // ListOffers: a request's offers, oldest first.
  await db.schema.createIndex('support_offers_request_idx').on('support_offers').columns(['request_id', 'create_time', 'id']).execute();
}
