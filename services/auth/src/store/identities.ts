import { newId } from '@hearth/db';
import type { Db } from './accounts.js';
import type { IdentityRow, ProviderName } from './schema.js';

export interface NewIdentity {
  readonly accountId: string;
  readonly provider: ProviderName;
  readonly subject: string;
  readonly email: string | null;
  readonly now: Date;
  /** Set when the identity is created by signing in with it (account creation). */
  readonly usedNow: boolean;
}

/** auth.identities: Google and Apple identities linked to accounts. */
export const identityStore = {
  async findBySubject(db: Db, provider: ProviderName, subject: string): Promise<IdentityRow | undefined> {
    return db.selectFrom('identities').selectAll().where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst();
  },

  async findByAccount(db: Db, accountId: string, provider: ProviderName): Promise<IdentityRow | undefined> {
    return db.selectFrom('identities').selectAll().where('account_id', '=', accountId).where('provider', '=', provider).executeTakeFirst();
  },

  async listByAccount(db: Db, accountId: string): Promise<IdentityRow[]> {
    return db.selectFrom('identities').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
  },

  /**
   * Undefined when (provider, subject) or (account, provider) is taken. ON CONFLICT rather than
   * catching the error, so the caller's transaction stays usable; the unique indexes decide races.
   */
  async insert(db: Db, i: NewIdentity): Promise<IdentityRow | undefined> {
    return db
      .insertInto('identities')
      .values({
        id: newId(),
        account_id: i.accountId,
        provider: i.provider,
        subject: i.subject,
        email: i.email,
        created_at: i.now,
        last_used_at: i.usedNow ? i.now : null,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  /** Records a sign-in, and the email the provider reports now (it may have changed). */
  async touch(db: Db, id: string, email: string | null, now: Date): Promise<void> {
    await db.updateTable('identities').set({ last_used_at: now, email }).where('id', '=', id).execute();
  },

  async delete(db: Db, id: string): Promise<void> {
    await db.deleteFrom('identities').where('id', '=', id).execute();
  },

  /** Unlinks every identity of the account; returns the providers that were linked. */
  async deleteAllOfAccount(db: Db, accountId: string): Promise<ProviderName[]> {
    const rows = await db.deleteFrom('identities').where('account_id', '=', accountId).returning('provider').execute();
    return rows.map((r) => r.provider).sort();
  },
};
