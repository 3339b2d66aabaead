import { sql } from 'kysely';
import type { Db } from './accounts.js';
import type { SigningKeyRow } from './schema.js';

export interface NewSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: Record<string, unknown>;
  readonly privateKeyEnc: Buffer;
  readonly createdAt: Date;
  readonly publishAt: Date;
  readonly signFrom: Date;
  readonly retireAt: Date;
  readonly expireAt: Date;
}

export const signingKeyStore = {
  /**
   * Serialises key decisions across replicas until the transaction ends, so two replicas never
   * both create a first key or a successor.
   */
  async lock(db: Db): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext('hearth.auth.signing_keys'))`.execute(db);
  },

  /** Keys still published or yet to be published (expire_at in the future), oldest signer first. */
  async listUnexpired(db: Db, now: Date): Promise<SigningKeyRow[]> {
    return db.selectFrom('signing_keys').selectAll().where('expire_at', '>', now).orderBy('sign_from', 'asc').execute();
  },

  async insert(db: Db, k: NewSigningKey): Promise<void> {
    await db
      .insertInto('signing_keys')
      .values({
        kid: k.kid,
        alg: k.alg,
        public_jwk: JSON.stringify(k.publicJwk),
        private_key_enc: k.privateKeyEnc,
        created_at: k.createdAt,
        publish_at: k.publishAt,
        sign_from: k.signFrom,
        retire_at: k.retireAt,
        expire_at: k.expireAt,
      })
      .execute();
  },

  async extend(db: Db, kid: string, retireAt: Date, expireAt: Date): Promise<void> {
    await db.updateTable('signing_keys').set({ retire_at: retireAt, expire_at: expireAt }).where('kid', '=', kid).execute();
  },
};
