import type { Kysely } from 'kysely';
import type { Account, AccountState, AuthTables } from './schema.js';

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

  /**
   * `forUpdate` serialises changes of one account; `forShare` lets a sign-in hold off a
   * concurrent SetAccountAccess until its session row is committed (so that call ends it too).
   */
  async findById(db: Db, id: string, opts: { forUpdate?: boolean; forShare?: boolean } = {}): Promise<Account | undefined> {
    let q = db.selectFrom('accounts').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    else if (opts.forShare) q = q.forShare();
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

  async setAccess(db: Db, id: string, a: { roles: readonly string[]; state: AccountState; now: Date }): Promise<void> {
    await db.updateTable('accounts').set({ roles: [...a.roles], state: a.state, updated_at: a.now }).where('id', '=', id).execute();
  },

  /**
   * Marks the account deleted and erases what it signed in with. The email becomes a tombstone
   * that is no address (so the unique index stays satisfied and the address is free again);
   * a check constraint holds every deleted row to this shape, so state and erasure change in
   * this one statement.
   */
  async erase(db: Db, id: string, roles: readonly string[], now: Date): Promise<void> {
    await db
      .updateTable('accounts')
      .set({ email: deletedEmail(id), password_hash: null, roles: [...roles], state: 'deleted', deleted_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
  },

  async setPasswordHash(db: Db, id: string, passwordHash: string, now: Date): Promise<void> {
    await db.updateTable('accounts').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
  },
};

/** What a deleted account's email column holds: not an address, so no sign-in can match it. */
export function deletedEmail(id: string): string {
  return `deleted:${id}`;
}
