import { type Updateable, sql } from 'kysely';
import type { Db } from './profiles.js';
import type { SettingsRow, SettingsTable } from './schema.js';

export type SettingsPatch = Omit<Updateable<SettingsTable>, 'user_id' | 'version'>;

/** users.settings: one row per profile, created with the profile (defaults are the columns'). */
export const settingsStore = {
  async find(db: Db, userId: string, opts: { forUpdate?: boolean } = {}): Promise<SettingsRow | undefined> {
    let q = db.selectFrom('settings').selectAll().where('user_id', '=', userId);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** Which of `userIds` share their presence (and still have an active or suspended account). */
  async sharingPresence(db: Db, userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await db
      .selectFrom('settings')
      .innerJoin('profiles', 'profiles.id', 'settings.user_id')
      .select('settings.user_id')
      .where('settings.user_id', 'in', userIds)
      .where('settings.show_presence', '=', true)
      .where('profiles.state', '!=', 'deleted')
      .execute();
    return new Set(rows.map((r) => r.user_id));
  },

  async insertDefaults(db: Db, userId: string): Promise<void> {
    await db.insertInto('settings').values({ user_id: userId }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
  },

  /** Applies `patch` and moves the settings one version on; callers lock and check the version first. */
  async update(db: Db, userId: string, patch: SettingsPatch): Promise<SettingsRow> {
    return db
      .updateTable('settings')
      .set({ ...patch, version: sql<number>`version + 1` })
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async delete(db: Db, userId: string): Promise<void> {
    await db.deleteFrom('settings').where('user_id', '=', userId).execute();
  },
};
