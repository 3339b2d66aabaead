import { type Kysely, sql } from 'kysely';

/** Google and Apple sign-in: identities linked to accounts, and the pending authorization flows. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('identities')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull().check(sql`provider in ('google', 'apple')`))
    // The provider's `sub`: stable for the person at that provider, unlike their email.
    .addColumn('subject', 'text', (c) => c.notNull())
    // What the provider reported at the last sign-in, for display only; never used to match.
    .addColumn('email', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addUniqueConstraint('identities_provider_subject_key', ['provider', 'subject'])
    // At most one identity per provider and account (the contract's LinkedIdentity says so).
    .addUniqueConstraint('identities_account_provider_key', ['account_id', 'provider'])
    .execute();

  await db.schema
    .createTable('oauth_flows')
    // SHA-256 of the state: the state itself is never stored.
    .addColumn('state_hash', 'bytea', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('intent', 'text', (c) => c.notNull().check(sql`intent in ('sign_in', 'link')`))
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    // The user who started a LINK flow; null for SIGN_IN.
    .addColumn('user_id', 'uuid', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addCheckConstraint('oauth_flows_link_has_user', sql`(intent = 'link') = (user_id is not null)`)
    .execute();
  // Expired flows are swept by expiry.
  await db.schema.createIndex('oauth_flows_expires_idx').on('oauth_flows').column('expires_at').execute();
}
