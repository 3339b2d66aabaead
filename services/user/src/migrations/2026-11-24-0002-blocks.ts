import { type Kysely, sql } from 'kysely';

/** Blocks between people. A block works both ways in effect, so lookups go both ways too. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('blocks')
    .addColumn('blocker_id', 'uuid', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addColumn('blocked_id', 'uuid', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('blocks_pkey', ['blocker_id', 'blocked_id'])
    .addCheckConstraint('blocks_not_self', sql`blocker_id <> blocked_id`)
    .execute();
  // "Who blocked this person" (the reverse direction of every check).
  await db.schema.createIndex('blocks_blocked_idx').on('blocks').columns(['blocked_id', 'blocker_id']).execute();
  // ListBlocks: one person's blocks, most recent first.
  await db.schema.createIndex('blocks_list_idx').on('blocks').columns(['blocker_id', 'create_time', 'blocked_id']).execute();
}
