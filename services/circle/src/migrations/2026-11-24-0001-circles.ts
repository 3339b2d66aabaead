import { type Kysely, sql } from 'kysely';

/** Circles, their members, invites and bans. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('circles')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('guidelines', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('visibility', 'text', (c) => c.notNull().check(sql`visibility in ('public', 'private')`))
    .addColumn('member_cap', 'integer', (c) => c.notNull().defaultTo(1000).check(sql`member_cap between 1 and 10000`))
    // Kept in the same transaction as every membership change; the cap is checked against it
    // under the circle's row lock.
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`member_count >= 0`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull())
    // Advanced by the chat half of the service when it stores a message.
    .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('update_time', 'timestamptz', (c) => c.notNull())
    .addColumn('archive_time', 'timestamptz')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addColumn('creator_id', 'uuid', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    // DiscoverCircles matches words in the name and description ('simple': no stemming, so it
    // behaves the same for every language).
    .addColumn('search', sql`tsvector`, (c) =>
      c.generatedAlwaysAs(sql`to_tsvector('simple', name || ' ' || description)`).stored(),
    )
    .addUniqueConstraint('circles_creator_idempotency_key', ['creator_id', 'idempotency_key'])
    .execute();
  // DiscoverCircles: public, active circles, newest first.
  await db.schema
    .createIndex('circles_discover_idx')
    .on('circles')
    .columns(['create_time desc', 'id desc'])
    .where(sql<boolean>`visibility = 'public' and archive_time is null`)
    .execute();
  await db.schema.createIndex('circles_search_idx').on('circles').using('gin').column('search').execute();

  await db.schema
    .createTable('members')
    .addColumn('circle_id', 'uuid', (c) => c.notNull().references('circles.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'host', 'member')`))
    // ListMembers orders owner, hosts, members; a stored rank lets an index serve that order.
    .addColumn('role_rank', 'smallint', (c) =>
      c.generatedAlwaysAs(sql`case role when 'owner' then 1 when 'host' then 2 else 3 end`).stored(),
    )
    .addColumn('join_time', 'timestamptz', (c) => c.notNull())
    // A mute whose time has passed is no mute: readers compare with the clock, no job clears it.
    .addColumn('mute_expire_time', 'timestamptz')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addPrimaryKeyConstraint('members_pk', ['circle_id', 'user_id'])
    .execute();
  await db.schema.createIndex('members_list_idx').on('members').columns(['circle_id', 'role_rank', 'join_time', 'user_id']).execute();
  // ListMyCircles: a person's circles, most recently joined first.
  await db.schema.createIndex('members_user_idx').on('members').columns(['user_id', 'join_time desc', 'circle_id desc']).execute();

  await db.schema
    .createTable('invites')
    // The code is the credential and the key (12 characters, about 70 bits of randomness).
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('circle_id', 'uuid', (c) => c.notNull().references('circles.id').onDelete('cascade'))
    .addColumn('creator_id', 'uuid', (c) => c.notNull())
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('expire_time', 'timestamptz', (c) => c.notNull())
    .addColumn('revoke_time', 'timestamptz')
    // 0 means no limit until the invite expires.
    .addColumn('max_uses', 'integer', (c) => c.notNull().defaultTo(0).check(sql`max_uses >= 0`))
    .addColumn('use_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`use_count >= 0`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addUniqueConstraint('invites_creator_idempotency_key', ['circle_id', 'creator_id', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('invites_circle_idx').on('invites').columns(['circle_id', 'create_time desc', 'code desc']).execute();

  await db.schema
    .createTable('bans')
    .addColumn('circle_id', 'uuid', (c) => c.notNull().references('circles.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('banned_by', 'uuid', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('bans_pk', ['circle_id', 'user_id'])
    .execute();
  await db.schema.createIndex('bans_circle_idx').on('bans').columns(['circle_id', 'create_time desc', 'user_id desc']).execute();
}
