import { type Kysely, sql } from 'kysely';

/**
 * Posts in circles. Bodies and content warnings are sealed (AES-256-GCM, @hearth/db FieldCipher)
 * with the ring key named in `body_key_id`, the post's id as associated data. CreatePost is
 * idempotent by (author, idempotency_key) for as long as the post is kept; `request_digest` (a
 * keyed digest of what was asked) tells a retry from a different post reusing the key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('posts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('circle_id', 'uuid', (c) => c.notNull())
    .addColumn('author_id', 'uuid', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_digest', 'bytea', (c) => c.notNull())
    .addColumn('digest_key_id', 'text', (c) => c.notNull())
    // Null once deleted or removed (the text is erased, not kept).
    .addColumn('body', 'bytea')
    .addColumn('content_warning', 'bytea')
    .addColumn('body_key_id', 'text')
    .addColumn('anonymous', 'boolean', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull().check(sql`visibility in ('members', 'public')`))
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('published').check(sql`state in ('published', 'hidden', 'removed', 'deleted')`))
    .addColumn('response_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`response_count >= 0`))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('edit_time', 'timestamptz')
    .addColumn('delete_time', 'timestamptz')
    .addColumn('expire_time', 'timestamptz')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('posts_author_idempotency_key', ['author_id', 'idempotency_key'])
    .addCheckConstraint('posts_body_key', sql`(body is null) = (body_key_id is null)`)
    .execute();
  // ListCirclePosts: a circle's published posts, newest first (keyset on create_time, id).
  await db.schema
    .createIndex('posts_circle_time_idx')
    .on('posts')
    .expression(sql`circle_id, create_time desc, id desc`)
    .where(sql<boolean>`state = 'published'`)
    .execute();
  // ListUserPosts: one author's posts, newest first.
  await db.schema.createIndex('posts_author_time_idx').on('posts').expression(sql`author_id, create_time desc, id desc`).execute();
}
