import { type Kysely, sql } from 'kysely';

/**
 * A deleted account keeps nothing it signed in with: no password hash, no linked identity, and
 * an email that is a tombstone (`deleted:<id>`), not an address. Rows deleted before this rule
 * existed are erased first, so the constraint holds for every row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`delete from identities where account_id in (select id from accounts where state = 'deleted')`.execute(db);
  await sql`
    update accounts
       set email = 'deleted:' || id::text, password_hash = null, deleted_at = coalesce(deleted_at, updated_at)
     where state = 'deleted'`.execute(db);
  await db.schema
    .alterTable('accounts')
    .addCheckConstraint(
      'accounts_deleted_erased',
      sql`state <> 'deleted' or (password_hash is null and deleted_at is not null and email = 'deleted:' || id::text)`,
    )
    .execute();
}
