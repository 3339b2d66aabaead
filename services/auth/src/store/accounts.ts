import type { Kysely } from 'kysely';
import type { Account, AuthTables } from './schema.js';

export type Db = Kysely<AuthTables>;

export interface NewAccount {
  readonly id: string;
  readonly email: string;
  /** Null for an account created through Google or Apple: it has no password until ChangePassword sets one. */
  readonly passwordHash: string | null;
  readonly now: Date;
}

/** auth.accounts. Every function takes the executor so callers choose the transaction. */
export const accountStore = {
  async findByEmail(db: Db, email: string): Promise<Account | undefined> {
    return db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
  },

  async findById(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<Account | undefined> {
    let q = db.selectFrom('accounts').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /**
   * False when the email is taken. ON CONFLICT rather than catching the error: a failed statement
   * would abort the caller's transaction. The unique index decides, so concurrent sign-ups are safe.
   */
  async insert(db: Db, a: NewAccount): Promise<boolean> {
    const row = await db
      .insertInto('accounts')
      .values({ id: a.id, email: a.email, password_hash: a.passwordHash, created_at: a.now, updated_at: a.now, deleted_at: null })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  },

  async setPasswordHash(db: Db, id: string, passwordHash: string, now: Date): Promise<void> {
    await db.updateTable('accounts').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
  },
};
