import { type Kysely, sql } from 'kysely';

/**
 * Supportive reactions on posts: one row per person and kind (ReactionKind's number), so adding
 * one twice changes nothing. Nobody sees who reacted, only counts and their own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('post_reactions')
    .addColumn('post_id', 'uuid', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('kind', 'smallint', (c) => c.notNull().check(sql`kind between 1 and 7`))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('post_reactions_pkey', ['post_id', 'kind', 'user_id'])
    .execute();
}
