import { type Kysely, sql } from 'kysely';

/** Accounts: sign-in credentials only. Profiles (handle, display name) belong to the user service. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // Normalised (NFKC, trimmed, lower case) before it gets here, so a plain unique index is enough.
    .addColumn('email', 'text', (c) => c.notNull().unique())
    // Null for accounts that only sign in through Google or Apple (later).
    .addColumn('password_hash', 'text')
    .addColumn('roles', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{user}'`))
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active').check(sql`state in ('active', 'suspended', 'deleted')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .execute();

}
