import { type Kysely, sql } from 'kysely';

/**
 * Chat messages, their mentions, reactions, pins and read positions. A message's `seq` is its circle's next `last_seq`, taken
 * under the circle's row lock in the transaction that stores it, so a circle's seqs are dense.
 * Bodies are sealed (AES-256-GCM, @hearth/db FieldCipher) with the key named in `body_key_id`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('circle_id', 'uuid', (c) => c.notNull().references('circles.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull().check(sql`seq >= 1`))
    // 'text' from a person; the others are the system's (no sender).
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('text', 'joined', 'left', 'welcome')`))
    .addColumn('sender_id', 'uuid')
    // Who a system message is about (joined, left, welcome).
    .addColumn('subject_user_id', 'uuid')
    // SendMessage's idempotency key, kept as long as the message.
    .addColumn('client_message_id', 'text')
    // A keyed digest of what the first SendMessage asked for (circle, thread, body), so a retry
    // is told from a different message reusing the key without keeping the original text.
    .addColumn('request_digest', 'bytea')
    // The ring key the digest is keyed with (a body re-sealed by an edit may use a newer one).
    .addColumn('digest_key_id', 'text')
    .addColumn('thread_root_id', 'uuid', (c) => c.references('messages.id'))
    // The ring key that sealed `body`.
    .addColumn('body_key_id', 'text')
    // Null for system messages and once deleted.
    .addColumn('body', 'bytea')
    .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`reply_count >= 0`))
    .addColumn('last_reply_time', 'timestamptz')
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addColumn('edit_time', 'timestamptz')
    .addColumn('delete_time', 'timestamptz')
    .addColumn('pin_time', 'timestamptz')
    .addColumn('pinned_by', 'uuid')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('messages_circle_seq', ['circle_id', 'seq'])
    .addUniqueConstraint('messages_sender_client_id', ['sender_id', 'client_message_id'])
    .addCheckConstraint('messages_sender_kind', sql`(kind = 'text') = (sender_id is not null and client_message_id is not null)`)
    .addCheckConstraint('messages_body_key', sql`(body is null) = (body_key_id is null)`)
    .addCheckConstraint('messages_digest_key', sql`(request_digest is null) = (digest_key_id is null)`)
    .execute();
  // GetThread: a thread's replies in seq order.
  await db.schema
    .createIndex('messages_thread_idx')
    .on('messages')
    .columns(['thread_root_id', 'seq'])
    .where(sql<boolean>`thread_root_id is not null`)
    .execute();

  // A member's first join is welcomed once: is there a welcome for them already?
  await db.schema
    .createIndex('messages_welcome_idx')
    .on('messages')
    .columns(['circle_id', 'subject_user_id'])
    .where(sql<boolean>`kind = 'welcome'`)
    .execute();

  // ListPins: a circle's pins, most recent first (at most 3).
  await db.schema
    .createIndex('messages_pins_idx')
    .on('messages')
    .columns(['circle_id', 'pin_time desc', 'id desc'])
    .where(sql<boolean>`pin_time is not null`)
    .execute();

  // One reaction per emoji per person per message.
  await db.schema
    .createTable('message_reactions')
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_reactions_pk', ['message_id', 'emoji', 'user_id'])
    .execute();

  // A person's read position in a circle: only ever moves forward (MarkRead).
  await db.schema
    .createTable('read_markers')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('circle_id', 'uuid', (c) => c.notNull().references('circles.id').onDelete('cascade'))
    .addColumn('last_read_seq', 'bigint', (c) => c.notNull().check(sql`last_read_seq >= 0`))
    .addColumn('update_time', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('read_markers_pk', ['user_id', 'circle_id'])
    .execute();

  await db.schema
    .createTable('message_mentions')
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('circle_id', 'uuid', (c) => c.notNull())
    .addColumn('create_time', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_mentions_pk', ['message_id', 'user_id'])
    .execute();
  // A person's mentions inbox, newest first.
  await db.schema.createIndex('message_mentions_user_idx').on('message_mentions').columns(['user_id', 'create_time desc', 'message_id desc']).execute();
}
