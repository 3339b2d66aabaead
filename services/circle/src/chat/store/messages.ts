import { type Insertable, type Updateable, sql } from 'kysely';
import type { Db, MessageRow, MessagesTable } from '../../store/schema.js';

/** One emoji's reactions on a message. */
export interface ReactionCount {
  readonly emoji: string;
  readonly count: number;
  readonly mine: boolean;
}

/** What SendMessage stores. */
export interface NewPersonMessage {
  readonly id: string;
  readonly circle_id: string;
  readonly seq: number;
  readonly sender_id: string;
  readonly client_message_id: string;
  readonly request_digest: Uint8Array;
  readonly digest_key_id: string;
  readonly thread_root_id: string | null;
  readonly body_key_id: string;
  readonly body: Uint8Array;
  readonly create_time: Date;
}

/** A message as the gateway reads it: the row with its mentions and reaction counts. */
export interface DeliveredRow {
  readonly row: MessageRow;
  readonly mentions: string[];
  readonly reactions: ReactionCount[];
}

/** circles.messages, circles.message_mentions and circles.message_reactions. */
export const messageStore = {
  /**
   * Takes the circle's next seq: bumps `last_seq` under the circle's row lock, which every
   * membership change also holds, so seqs are dense and a send serialises with a removal.
   * Undefined when the circle does not exist.
   */
  async nextSeq(db: Db, circleId: string): Promise<{ seq: number; archived: boolean } | undefined> {
    const row = await db
      .updateTable('circles')
      .set({ last_seq: sql`last_seq + 1` })
      .where('id', '=', circleId)
      .returning(['last_seq', 'archive_time'])
      .executeTakeFirst();
    return row && { seq: Number(row.last_seq), archived: row.archive_time !== null };
  },

  async lastSeq(db: Db, circleId: string): Promise<number | undefined> {
    const row = await db.selectFrom('circles').select('last_seq').where('id', '=', circleId).executeTakeFirst();
    return row && Number(row.last_seq);
  },

  /**
   * The gateway's read in one round trip: the circle's last seq, and the messages after
   * `after` (at most `limit`, never past that seq) with their mentions and reaction counts
   * (in the order each emoji was first used). Undefined when the circle does not exist.
   */
  async deliveryRange(db: Db, circleId: string, after: number, limit: number): Promise<{ lastSeq: number; messages: DeliveredRow[] } | undefined> {
    type Joined = MessageRow & { circle_last_seq: string; mention_ids: string[] | null; reaction_counts: Array<{ emoji: string; n: number }> | null };
    const { rows } = await sql<Joined>`
      select c.last_seq as circle_last_seq, m.*,
        (select json_agg(mm.user_id order by mm.user_id) from message_mentions mm where mm.message_id = m.id) as mention_ids,
        (select json_agg(json_build_object('emoji', r.emoji, 'n', r.n) order by r.first, r.emoji)
           from (select emoji, count(*) as n, min(create_time) as first from message_reactions
                 where message_id = m.id group by emoji) r) as reaction_counts
      from circles c
      left join messages m on m.circle_id = c.id and m.seq > ${after} and m.seq <= least(c.last_seq, ${after + limit})
      where c.id = ${circleId}
      order by m.seq`.execute(db);
    const first = rows[0];
    if (!first) return undefined;
    const messages = rows
      .filter((r) => r.id !== null)
      .map(({ circle_last_seq: _, mention_ids, reaction_counts, ...row }) => ({
        row: row as MessageRow,
        mentions: mention_ids ?? [],
        reactions: (reaction_counts ?? []).map((r) => ({ emoji: r.emoji, count: Number(r.n), mine: false })),
      }));
    return { lastSeq: Number(first.circle_last_seq), messages };
  },

  /**
   * Stores a person's message in one statement if, as this statement sees it (run after the
   * circle's row lock, so with what committed before), the sender is a member not muted at
   * `create_time`, and no message of theirs has the same client_message_id. Undefined when it
   * was not stored; the caller finds out why (that path is rare, the common one is one round trip).
   */
  async insertFromMember(db: Db, m: NewPersonMessage): Promise<MessageRow | undefined> {
    const { rows } = await sql<MessageRow>`
      insert into messages (id, circle_id, seq, kind, sender_id, client_message_id, request_digest, digest_key_id,
                            thread_root_id, body_key_id, body, create_time)
      select ${m.id}::uuid, ${m.circle_id}::uuid, ${m.seq}::bigint, 'text', ${m.sender_id}::uuid, ${m.client_message_id}::text,
             ${m.request_digest}::bytea, ${m.digest_key_id}::text, ${m.thread_root_id}::uuid, ${m.body_key_id}::text,
             ${m.body}::bytea, ${m.create_time}::timestamptz
      where exists (select 1 from members
                    where circle_id = ${m.circle_id}::uuid and user_id = ${m.sender_id}::uuid
                      and (mute_expire_time is null or mute_expire_time <= ${m.create_time}::timestamptz))
      on conflict (sender_id, client_message_id) do nothing
      returning *`.execute(db);
    return rows[0];
  },

  async insert(db: Db, row: Insertable<MessagesTable>): Promise<MessageRow> {
    return db.insertInto('messages').values(row).returningAll().executeTakeFirstOrThrow();
  },

  async find(db: Db, circleId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<MessageRow | undefined> {
    let q = db.selectFrom('messages').selectAll().where('circle_id', '=', circleId).where('id', '=', id);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  async findByClientId(db: Db, senderId: string, clientMessageId: string): Promise<MessageRow | undefined> {
    return db.selectFrom('messages').selectAll().where('sender_id', '=', senderId).where('client_message_id', '=', clientMessageId).executeTakeFirst();
  },

  /** Changes a message; its version grows by one. */
  async update(db: Db, id: string, changes: Updateable<MessagesTable>): Promise<MessageRow> {
    return db
      .updateTable('messages')
      .set({ ...changes, version: sql`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async deleteMentions(db: Db, messageId: string): Promise<void> {
    await db.deleteFrom('message_mentions').where('message_id', '=', messageId).execute();
  },

  /** A new reply in the thread of `rootId`: its count, time and version move. */
  async addReply(db: Db, rootId: string, at: Date): Promise<void> {
    await db
      .updateTable('messages')
      .set({ reply_count: sql`reply_count + 1`, last_reply_time: at, version: sql`version + 1` })
      .where('id', '=', rootId)
      .execute();
  },

  /** Messages with `from <= seq <= to`, ascending (the unique (circle_id, seq) index serves it). */
  async range(db: Db, circleId: string, from: number, to: number): Promise<MessageRow[]> {
    if (to < from) return [];
    return db
      .selectFrom('messages')
      .selectAll()
      .where('circle_id', '=', circleId)
      .where(sql<boolean>`seq between ${from} and ${to}`)
      .orderBy('seq', 'asc')
      .execute();
  },

  /** Replies of a thread with seq > `afterSeq`, ascending, at most `limit`. */
  async replies(db: Db, rootId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return db
      .selectFrom('messages')
      .selectAll()
      .where('thread_root_id', '=', rootId)
      .where(sql<boolean>`seq > ${afterSeq}`)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
  },

  /** Adds a reaction; false when the person had already made it. */
  async addReaction(db: Db, r: { message_id: string; user_id: string; emoji: string; create_time: Date }): Promise<boolean> {
    const res = await db.insertInto('message_reactions').values(r).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return (res.numInsertedOrUpdatedRows ?? 0n) > 0n;
  },

  /** False when there was no such reaction. */
  async removeReaction(db: Db, messageId: string, userId: string, emoji: string): Promise<boolean> {
    const res = await db.deleteFrom('message_reactions').where('message_id', '=', messageId).where('user_id', '=', userId).where('emoji', '=', emoji).executeTakeFirst();
    return res.numDeletedRows > 0n;
  },

  async hasEmoji(db: Db, messageId: string, emoji: string): Promise<boolean> {
    const row = await db.selectFrom('message_reactions').select('emoji').where('message_id', '=', messageId).where('emoji', '=', emoji).limit(1).executeTakeFirst();
    return row !== undefined;
  },

  async distinctEmoji(db: Db, messageId: string): Promise<number> {
    const row = await db
      .selectFrom('message_reactions')
      .select((eb) => eb.fn.count<string>('emoji').distinct().as('n'))
      .where('message_id', '=', messageId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async deleteReactions(db: Db, messageId: string): Promise<void> {
    await db.deleteFrom('message_reactions').where('message_id', '=', messageId).execute();
  },

  /**
   * Each message's reactions, one entry per emoji in the order each was first used, with
   * whether `viewerId` is among those who used it.
   */
  async reactionsOf(db: Db, messageIds: readonly string[], viewerId: string | undefined): Promise<Map<string, ReactionCount[]>> {
    const out = new Map<string, ReactionCount[]>();
    if (messageIds.length === 0) return out;
    const rows = await db
      .selectFrom('message_reactions')
      .select([
        'message_id',
        'emoji',
        (eb) => eb.fn.countAll<string>().as('n'),
        sql<boolean>`coalesce(bool_or(user_id = ${viewerId ?? null}::uuid), false)`.as('mine'),
        (eb) => eb.fn.min('create_time').as('first'),
      ])
      .where('message_id', 'in', [...messageIds])
      .groupBy(['message_id', 'emoji'])
      .orderBy('first')
      .orderBy('emoji')
      .execute();
    for (const r of rows) {
      const list = out.get(r.message_id) ?? [];
      list.push({ emoji: r.emoji, count: Number(r.n), mine: r.mine });
      out.set(r.message_id, list);
    }
    return out;
  },

  async pinCount(db: Db, circleId: string): Promise<number> {
    const row = await db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('circle_id', '=', circleId)
      .where('pin_time', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** A circle's pins, most recently pinned first, after a keyset position. */
  async pins(db: Db, circleId: string, after: { t: Date; id: string } | undefined, limit: number): Promise<MessageRow[]> {
    let q = db.selectFrom('messages').selectAll().where('circle_id', '=', circleId).where('pin_time', 'is not', null);
    if (after) q = q.where((eb) => eb.or([eb('pin_time', '<', after.t), eb.and([eb('pin_time', '=', after.t), eb('id', '<', after.id)])]));
    return q.orderBy('pin_time', 'desc').orderBy('id', 'desc').limit(limit).execute();
  },

  async hasWelcome(db: Db, circleId: string, userId: string): Promise<boolean> {
    const row = await db
      .selectFrom('messages')
      .select('id')
      .where('circle_id', '=', circleId)
      .where('kind', '=', 'welcome')
      .where('subject_user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /**
   * Mentions of `userId`, newest first, after a keyset position: in circles they are still a
   * member of, of messages not deleted.
   */
  async mentionsFor(db: Db, userId: string, after: { t: Date; id: string } | undefined, limit: number): Promise<Array<MessageRow & { mention_time: Date }>> {
    let q = db
      .selectFrom('message_mentions as mm')
      .innerJoin('messages as m', 'm.id', 'mm.message_id')
      .innerJoin('members as me', (j) => j.onRef('me.circle_id', '=', 'mm.circle_id').on('me.user_id', '=', userId))
      .selectAll('m')
      .select('mm.create_time as mention_time')
      .where('mm.user_id', '=', userId)
      .where('m.delete_time', 'is', null);
    if (after) q = q.where((eb) => eb.or([eb('mm.create_time', '<', after.t), eb.and([eb('mm.create_time', '=', after.t), eb('mm.message_id', '<', after.id)])]));
    return q.orderBy('mm.create_time', 'desc').orderBy('mm.message_id', 'desc').limit(limit).execute();
  },

  async insertMentions(db: Db, rows: ReadonlyArray<{ message_id: string; user_id: string; circle_id: string; create_time: Date }>): Promise<void> {
    if (rows.length > 0) await db.insertInto('message_mentions').values([...rows]).execute();
  },

  /** The mentioned user ids of each message, sorted. */
  async mentionsOf(db: Db, messageIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (messageIds.length === 0) return out;
    const rows = await db.selectFrom('message_mentions').select(['message_id', 'user_id']).where('message_id', 'in', [...messageIds]).orderBy('user_id').execute();
    for (const r of rows) {
      const list = out.get(r.message_id);
      if (list) list.push(r.user_id);
      else out.set(r.message_id, [r.user_id]);
    }
    return out;
  },

  /** Which of `userIds` are members of the circle. */
  async membersAmong(db: Db, circleId: string, userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await db.selectFrom('members').select('user_id').where('circle_id', '=', circleId).where('user_id', 'in', [...userIds]).execute();
    return new Set(rows.map((r) => r.user_id));
  },
};

/** The most unread messages counted per circle; apps show "999+" at this. */
export const UNREAD_CAP = 1000;

export interface UnreadRow {
  readonly circle_id: string;
  readonly last_seq: number;
  readonly last_read_seq: number;
  readonly unread: number;
}

/** circles.read_markers, and the unread counts derived from them. */
export const readStore = {
  /** Moves the position forward to `seq` (never back); returns the position now. */
  async advance(db: Db, userId: string, circleId: string, seq: number, now: Date): Promise<number> {
    const row = await db
      .insertInto('read_markers')
      .values({ user_id: userId, circle_id: circleId, last_read_seq: seq, update_time: now })
      .onConflict((oc) =>
        oc.columns(['user_id', 'circle_id']).doUpdateSet({
          last_read_seq: sql`greatest(read_markers.last_read_seq, excluded.last_read_seq)`,
          update_time: sql`case when excluded.last_read_seq > read_markers.last_read_seq then excluded.update_time else read_markers.update_time end`,
        }),
      )
      .returning('last_read_seq')
      .executeTakeFirstOrThrow();
    return Number(row.last_read_seq);
  },

  /**
   * The unread counts of `userId` in the circles they are a member of: all of them (keyset
   * page after `afterCircleId`, by circle id), or those of `circleIds`. One round trip; each
   * count reads at most UNREAD_CAP index entries after the read position, whatever the history.
   */
  async counts(db: Db, userId: string, opts: { circleIds: readonly string[] } | { after: string; limit: number }): Promise<UnreadRow[]> {
    let q = db
      .selectFrom('members as m')
      .innerJoin('circles as c', 'c.id', 'm.circle_id')
      .leftJoin('read_markers as r', (j) => j.onRef('r.user_id', '=', 'm.user_id').onRef('r.circle_id', '=', 'm.circle_id'))
      .select([
        'm.circle_id',
        'c.last_seq',
        sql<string>`coalesce(r.last_read_seq, 0)`.as('last_read_seq'),
        sql<string>`(select count(*) from (
          select 1 from messages x
          where x.circle_id = m.circle_id and x.seq > coalesce(r.last_read_seq, 0)
            and x.kind = 'text' and x.sender_id <> m.user_id and x.delete_time is null
          order by x.seq limit ${UNREAD_CAP}) t)`.as('unread'),
      ])
      .where('m.user_id', '=', userId);
    if ('circleIds' in opts) {
      if (opts.circleIds.length === 0) return [];
      q = q.where('m.circle_id', 'in', [...opts.circleIds]);
    } else {
      q = q.where('m.circle_id', '>', opts.after).orderBy('m.circle_id').limit(opts.limit);
    }
    const rows = await q.execute();
    return rows.map((r) => ({ circle_id: r.circle_id, last_seq: Number(r.last_seq), last_read_seq: Number(r.last_read_seq), unread: Number(r.unread) }));
  },
};
