import { type ExpressionBuilder, sql } from 'kysely';
import type { CircleRow, CirclesTable, Db, MemberRow, Role, Visibility } from './schema.js';

/** A position in a list ordered by (time, id), newest first. */
export interface TimePosition {
  readonly time: Date;
  readonly id: string;
}

/** A circle together with one person's membership in it (absent when they are not a member). */
export interface CircleWithMember {
  readonly circle: CircleRow;
  readonly member: MemberRow | undefined;
}

/** What the authorization layer needs about one user in one circle. */
export interface AccessRow {
  readonly visibility: Visibility;
  readonly archived: boolean;
  readonly role: Role | null;
  readonly muteExpireTime: Date | null;
  readonly banned: boolean;
}

export interface CircleChanges {
  name?: string;
  description?: string;
  guidelines?: string;
  visibility?: Visibility;
  member_cap?: number;
  owner_id?: string;
  archive_time?: Date;
}

/** Every column but the search vector, for `returning`. */
const RETURNED = [
  'id',
  'name',
  'description',
  'guidelines',
  'visibility',
  'member_cap',
  'member_count',
  'owner_id',
  'last_seq',
  'create_time',
  'update_time',
  'archive_time',
  'version',
  'creator_id',
  'idempotency_key',
] as const;

/** The same, qualified, for queries that join members (which has a `version` too). */
const CIRCLE_COLUMNS = [
  'c.id',
  'c.name',
  'c.description',
  'c.guidelines',
  'c.visibility',
  'c.member_cap',
  'c.member_count',
  'c.owner_id',
  'c.last_seq',
  'c.create_time',
  'c.update_time',
  'c.archive_time',
  'c.version',
  'c.creator_id',
  'c.idempotency_key',
] as const;

const MEMBER_COLUMNS = [
  'm.user_id as m_user_id',
  'm.role as m_role',
  'm.role_rank as m_role_rank',
  'm.join_time as m_join_time',
  'm.mute_expire_time as m_mute_expire_time',
  'm.version as m_version',
] as const;

type JoinedRow = CircleRow & {
  m_user_id: string | null;
  m_role: Role | null;
  m_role_rank: number | null;
  m_join_time: Date | null;
  m_mute_expire_time: Date | null;
  m_version: string | null;
};

function split(row: JoinedRow): CircleWithMember {
  const { m_user_id, m_role, m_role_rank, m_join_time, m_mute_expire_time, m_version, ...circle } = row;
  const member =
    m_user_id === null || m_role === null || m_join_time === null || m_version === null
      ? undefined
      : {
          circle_id: circle.id,
          user_id: m_user_id,
          role: m_role,
          role_rank: m_role_rank ?? 3,
          join_time: m_join_time,
          mute_expire_time: m_mute_expire_time,
          version: m_version,
        };
  return { circle, member };
}

function newerThan(after: TimePosition) {
  return (eb: ExpressionBuilder<{ c: CirclesTable }, 'c'>) =>
    eb.or([eb('c.create_time', '<', after.time), eb.and([eb('c.create_time', '=', after.time), eb('c.id', '<', after.id)])]);
}

/** circles.circles. */
export const circleStore = {
  async insert(db: Db, row: Omit<CircleRow, 'last_seq' | 'version'>): Promise<CircleRow> {
    return db.insertInto('circles').values(row).returning(RETURNED).executeTakeFirstOrThrow();
  },

  /** `forUpdate` takes the circle's row lock: every membership change of a circle serialises on it. */
  async find(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<CircleRow | undefined> {
    let q = db.selectFrom('circles as c').select(CIRCLE_COLUMNS).where('c.id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  async findByIdempotencyKey(db: Db, creatorId: string, key: string): Promise<CircleRow | undefined> {
    return db
      .selectFrom('circles as c')
      .select(CIRCLE_COLUMNS)
      .where('c.creator_id', '=', creatorId)
      .where('c.idempotency_key', '=', key)
      .executeTakeFirst();
  },

  /** Changes the circle's own fields: the version grows by one. */
  async update(db: Db, id: string, changes: CircleChanges, now: Date): Promise<CircleRow> {
    return db
      .updateTable('circles')
      .set({ ...changes, update_time: now, version: sql`version + 1` })
      .where('id', '=', id)
      .returning(RETURNED)
      .executeTakeFirstOrThrow();
  },

  /** Membership bookkeeping: not a change to the circle's own fields, so no version bump. */
  async addToMemberCount(db: Db, id: string, delta: number): Promise<void> {
    await db
      .updateTable('circles')
      .set((eb) => ({ member_count: eb('member_count', '+', delta) as never }))
      .where('id', '=', id)
      .execute();
  },

  /** The circles `userId` is a member of, most recently joined first. */
  async listForMember(
    db: Db,
    userId: string,
    opts: { includeArchived: boolean; after: TimePosition | undefined; limit: number },
  ): Promise<CircleWithMember[]> {
    let q = db
      .selectFrom('members as m')
      .innerJoin('circles as c', 'c.id', 'm.circle_id')
      .select([...CIRCLE_COLUMNS, ...MEMBER_COLUMNS])
      .where('m.user_id', '=', userId);
    if (!opts.includeArchived) q = q.where('c.archive_time', 'is', null);
    const after = opts.after;
    if (after) {
      q = q.where((eb) =>
        eb.or([eb('m.join_time', '<', after.time), eb.and([eb('m.join_time', '=', after.time), eb('m.circle_id', '<', after.id)])]),
      );
    }
    const rows = await q.orderBy('m.join_time', 'desc').orderBy('m.circle_id', 'desc').limit(opts.limit).execute();
    return rows.map((r) => split(r as JoinedRow));
  },

  /**
   * Public, active circles `userId` is not banned from, newest first; every word of `words`
   * must start a word of the name or description.
   */
  async discover(
    db: Db,
    userId: string,
    opts: { words: readonly string[]; after: TimePosition | undefined; limit: number },
  ): Promise<CircleWithMember[]> {
    let q = db
      .selectFrom('circles as c')
      .leftJoin('members as m', (j) => j.onRef('m.circle_id', '=', 'c.id').on('m.user_id', '=', userId))
      .select([...CIRCLE_COLUMNS, ...MEMBER_COLUMNS])
      .where('c.visibility', '=', 'public')
      .where('c.archive_time', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('bans as b').select('b.user_id').whereRef('b.circle_id', '=', 'c.id').where('b.user_id', '=', userId))),
      );
    if (opts.words.length > 0) {
      // Words are letters and digits only (service/search.ts), so `:*` prefixes are safe to build.
      const query = opts.words.map((w) => `${w}:*`).join(' & ');
      q = q.where(sql<boolean>`c.search @@ to_tsquery('simple', ${query})`);
    }
    if (opts.after) q = q.where(newerThan(opts.after));
    const rows = await q.orderBy('c.create_time', 'desc').orderBy('c.id', 'desc').limit(opts.limit).execute();
    return rows.map((r) => split(r as JoinedRow));
  },

  /** Undefined when the circle does not exist. */
  async access(db: Db, circleId: string, userId: string): Promise<AccessRow | undefined> {
    const row = await db
      .selectFrom('circles as c')
      .leftJoin('members as m', (j) => j.onRef('m.circle_id', '=', 'c.id').on('m.user_id', '=', userId))
      .select(({ exists, selectFrom }) => [
        'c.visibility',
        'c.archive_time',
        'm.role',
        'm.mute_expire_time',
        exists(selectFrom('bans as b').select('b.user_id').whereRef('b.circle_id', '=', 'c.id').where('b.user_id', '=', userId)).as(
          'banned',
        ),
      ])
      .where('c.id', '=', circleId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      visibility: row.visibility,
      archived: row.archive_time !== null,
      role: row.role,
      muteExpireTime: row.mute_expire_time,
      banned: Boolean(row.banned),
    };
  },

  /** `access` for many circles at once; circles that do not exist are left out. */
  async accessMany(db: Db, circleIds: readonly string[], userId: string): Promise<Map<string, AccessRow>> {
    if (circleIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('circles as c')
      .leftJoin('members as m', (j) => j.onRef('m.circle_id', '=', 'c.id').on('m.user_id', '=', userId))
      .select(({ exists, selectFrom }) => [
        'c.id',
        'c.visibility',
        'c.archive_time',
        'm.role',
        'm.mute_expire_time',
        exists(selectFrom('bans as b').select('b.user_id').whereRef('b.circle_id', '=', 'c.id').where('b.user_id', '=', userId)).as(
          'banned',
        ),
      ])
      .where('c.id', 'in', circleIds)
      .execute();
    return new Map(
      rows.map((row) => [
        row.id,
        { visibility: row.visibility, archived: row.archive_time !== null, role: row.role, muteExpireTime: row.mute_expire_time, banned: Boolean(row.banned) },
      ]),
    );
  },
};

