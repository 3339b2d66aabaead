import { type Kysely, sql } from 'kysely';

/**
 * The feed reads the newest few posts of each of a reader's circles and keeps the newest of
 * all: with expire_time in the circle index those reads touch the index only (no table row
 * per candidate), and only the page's own rows are read from the table (bench:feed's profile:
 * Postgres was the larger half of a feed page's cost).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('posts_circle_time_idx').execute();
  await sql`create index posts_circle_time_idx on posts (circle_id, create_time desc, id desc) include (expire_time) where state = 'published'`.execute(db);
}
