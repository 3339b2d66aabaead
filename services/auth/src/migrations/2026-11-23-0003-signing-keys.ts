import type { Kysely } from 'kysely';

/**
 * Access token signing keys. A key is in the JWKS from publish_at until expire_at and signs from
 * sign_from until retire_at; see service/key-ring.ts for how the times are chosen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    // AES-256-GCM: iv (12 bytes) || tag (16 bytes) || ciphertext, AAD = kid.
    .addColumn('private_key_enc', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('publish_at', 'timestamptz', (c) => c.notNull())
    .addColumn('sign_from', 'timestamptz', (c) => c.notNull())
    .addColumn('retire_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expire_at', 'timestamptz', (c) => c.notNull())
    .execute();
}
