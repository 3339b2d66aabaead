import { type Kysely, sql } from 'kysely';

/**
 * Responses to posts, flat and oldest first. Bodies sealed as posts' are (the response's id as
 * associated data). `by_post_author` is fixed at creation; whether it is shown is decided on
 * read (post.proto PostResponse). CreateResponse is idempotent by (author, idempotency_key).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('responses')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('post_id', 'uuid', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('author_id', 'uuid', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_digest', 'bytea', (c) => c.notNull())
    .addColumn('digest_key_id', 'text', (c) => c.notNull())
    .addColumn('body', 'bytea')
    .addColumn('body_key_id', 'text')
    .addColumn('anonymous', 'boolean', (c) => c.notNull())
    .addColumn('by_post_author', 'boolean', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('published').check(sql`state in ('published', 'hidden', 'removed', 'deleted')`))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('edit_time', 'timestamptz')
    .addColumn('delete_time', 'timestamptz')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('responses_author_idempotency_key', ['author_id', 'idempotency_key'])
    .addCheckConstraint('responses_body_key', sql`(body is null) = (body_key_id is null)`)
    .execute();
  // ListResponses: a post's responses, oldest first (keyset on create_time, id).
  await db.schema.createIndex('responses_post_time_idx').on('responses').columns(['post_id', 'create_time', 'id']).execute();
}
