import { type Kysely, sql } from 'kysely';

/**
 * Support requests, posted in a circle. Bodies sealed (the request's id as associated data);
 * CreateSupportRequest idempotent by (requester, idempotency_key). Topic and urgency are the
 * contract's enum numbers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('support_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('circle_id', 'uuid', (c) => c.notNull())
    .addColumn('requester_id', 'uuid', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_digest', 'bytea', (c) => c.notNull())
    .addColumn('digest_key_id', 'text', (c) => c.notNull())
    .addColumn('topic', 'smallint', (c) => c.notNull().check(sql`topic between 1 and 8`))
    .addColumn('urgency', 'smallint', (c) => c.notNull().check(sql`urgency between 1 and 3`))
    .addColumn('body', 'bytea')
    .addColumn('body_key_id', 'text')
    .addColumn('anonymous', 'boolean', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('open').check(sql`state in ('open', 'matched', 'resolved', 'cancelled', 'removed')`))
    .addColumn('offer_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('update_time', 'timestamptz', (c) => c.notNull())
    .addColumn('resolve_time', 'timestamptz')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('support_requests_requester_key', ['requester_id', 'idempotency_key'])
    .execute();
  // ListSupportRequests: a circle's requests, most urgent first, then newest.
  await db.schema
    .createIndex('support_requests_circle_idx')
    .on('support_requests')
    .expression(sql`circle_id, urgency desc, create_time desc, id desc`)
    .execute();
  // The open-request cap and "only mine".
  await db.schema.createIndex('support_requests_requester_idx').on('support_requests').columns(['requester_id', 'state']).execute();
}
