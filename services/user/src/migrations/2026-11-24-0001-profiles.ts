import { type Kysely, sql } from 'kysely';

/**
 * Profiles and settings. A profile row outlives its account's purge as a tombstone (id, state,
 * times, nothing personal), so old content keeps resolving to "Deleted account".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('profiles')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // Stored in lower case, so the unique index compares case-insensitively; null once purged.
    .addColumn('handle', 'text', (c) => c.check(sql`handle ~ '^[a-z0-9_]{3,30}$'`))
    .addColumn('display_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('bio', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('pronouns', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('avatar_url', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active').check(sql`state in ('active', 'suspended', 'deleted')`))
    .addColumn('roles', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{user}'`))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('update_time', 'timestamptz', (c) => c.notNull())
    .addColumn('delete_time', 'timestamptz')
    .addColumn('purge_after', 'timestamptz')
    .execute();
  // text_pattern_ops also serves ListUsers' handle prefix (LIKE 'abc%') whatever the collation.
  await sql`create unique index profiles_handle_key on profiles (handle text_pattern_ops)`.execute(db);
  // ListUsers pages oldest first.
  await db.schema.createIndex('profiles_create_time_idx').on('profiles').columns(['create_time', 'id']).execute();
  // The purge job looks only at deleted accounts that are due.
  await db.schema
    .createIndex('profiles_purge_idx')
    .on('profiles')
    .column('purge_after')
    .where(sql.ref('purge_after'), 'is not', null)
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('profiles.id').onDelete('cascade'))
    .addColumn('notify_messages', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('notify_mentions', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('notify_support_requests', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('notify_sos_alerts', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('direct_messages', 'text', (c) =>
      c.notNull().defaultTo('circle_members').check(sql`direct_messages in ('everyone', 'circle_members', 'nobody')`),
    )
    .addColumn('show_presence', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('discoverable_by_handle', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    // Null until the person first changes a setting (Settings.update_time is then unset).
    .addColumn('update_time', 'timestamptz')
    .execute();
}
