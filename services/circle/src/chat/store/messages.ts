import { type Insertable, type Updateable, sql } from 'kysely';
import type { Db, MessageRow, MessagesTable } from '../../store/schema.js';

/** circles.messages and circles.message_mentions. */
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
