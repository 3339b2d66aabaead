import { type Kysely, type Updateable, sql } from 'kysely';
import type { AccountState, NewProfile, ProfileRow, ProfilesTable, RoleName, UsersTables } from './schema.js';

export type Db = Kysely<UsersTables>;

export type ProfilePatch = Omit<Updateable<ProfilesTable>, 'id' | 'version' | 'create_time'>;

export interface ProfileFilter {
  readonly state?: AccountState;
  readonly role?: RoleName;
  /** Lower case, letters, digits and "_" only; matched against handles of accounts not deleted. */
  readonly handlePrefix?: string;
}

/** users.profiles. Every function takes the executor so callers choose the transaction. */
export const profileStore = {
  async findById(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<ProfileRow | undefined> {
    let q = db.selectFrom('profiles').selectAll().where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** `handle` must already be lower case. */
  async findByHandle(db: Db, handle: string): Promise<ProfileRow | undefined> {
    return db.selectFrom('profiles').selectAll().where('handle', '=', handle).executeTakeFirst();
  },

  async findMany(db: Db, ids: readonly string[]): Promise<ProfileRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('profiles').selectAll().where('id', 'in', ids).execute();
  },

  /** The subset of `handles` (lower case) that belong to some account, deleted or not. */
  async takenHandles(db: Db, handles: readonly string[]): Promise<Set<string>> {
    if (handles.length === 0) return new Set();
    const rows = await db.selectFrom('profiles').select('handle').where('handle', 'in', handles).execute();
    return new Set(rows.map((r) => r.handle).filter((h): h is string => h !== null));
  },

  /**
   * False when the id or the handle is taken. ON CONFLICT rather than catching the error: a failed
   * statement would abort the caller's transaction. The unique indexes decide, so races are safe.
   */
  async insert(db: Db, p: NewProfile): Promise<boolean> {
    const row = await db.insertInto('profiles').values(p).onConflict((oc) => oc.doNothing()).returning('id').executeTakeFirst();
    return row !== undefined;
  },

  /** Applies `patch` and moves the profile one version on; callers lock and check the version first. */
  async update(db: Db, id: string, patch: ProfilePatch): Promise<ProfileRow> {
    return db
      .updateTable('profiles')
      .set({ ...patch, version: sql<number>`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** Active admins other than `exceptId`; call under `lockAdmins` so the answer holds until commit. */
  async countActiveAdmins(db: Db, exceptId: string): Promise<number> {
    const row = await db
      .selectFrom('profiles')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('state', '=', 'active')
      .where(sql<boolean>`'admin' = any(roles)`)
      .where('id', '<>', exceptId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /**
   * Serialises changes that can remove an admin, so two admins demoting each other at the same
   * time cannot both pass the last-admin check. Released at the end of the transaction.
   */
  async lockAdmins(db: Db): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext('hearth.users.admins'))`.execute(db);
  },

  /** Oldest first, after the (create_time, id) position `after`. */
  async list(db: Db, filter: ProfileFilter, after: { time: Date; id: string } | undefined, limit: number): Promise<ProfileRow[]> {
    let q = db.selectFrom('profiles').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.role) q = q.where(sql<boolean>`${filter.role} = any(roles)`);
    if (filter.handlePrefix) {
      // Handles hold only [a-z0-9_]; "_" is a LIKE wildcard and must be escaped.
      const pattern = `${filter.handlePrefix.replaceAll('_', '\\_')}%`;
      q = q.where('state', '<>', 'deleted').where('handle', 'like', pattern);
    }
    if (after) {
      q = q.where((eb) =>
        eb.or([eb('create_time', '>', after.time), eb.and([eb('create_time', '=', after.time), eb('id', '>', after.id)])]),
      );
    }
    return q.orderBy('create_time').orderBy('id').limit(limit).execute();
  },

  /** Deleted accounts whose retention ended; rows another purge holds are skipped, not waited for. */
  async lockDueForPurge(db: Db, now: Date, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('profiles')
      .select('id')
      .where('state', '=', 'deleted')
      .where('purge_after', '<=', now)
      .orderBy('purge_after')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    return rows.map((r) => r.id);
  },

  /**
   * Leaves a tombstone: id, state and times stay so old references resolve to "Deleted account";
   * the handle (now free again), every display field and the roles go.
   */
  async erase(db: Db, id: string, now: Date): Promise<void> {
    await db
      .updateTable('profiles')
      .set({
        handle: null,
        display_name: '',
        bio: '',
        pronouns: '',
        avatar_url: '',
        roles: ['user'],
        purge_after: null,
        update_time: now,
        version: sql<number>`version + 1`,
      })
      .where('id', '=', id)
      .execute();
  },
};
