import { Code, ConnectError } from '@connectrpc/connect';
import { type BlockSource, chatMessageTopic, mutedError, readMarkerTopic } from '@hearth/authz';
import { type Database, type EventPublisher, type FieldCipher, assertVersion, isUniqueViolation, newId, pageSizeOf } from '@hearth/db';
import type { CirclesTables, Db, MessageRow } from '../../store/schema.js';
import { auditStore } from '../../store/audit.js';
import { circleStore } from '../../store/circles.js';
import { memberStore } from '../../store/members.js';
import { type Actor, errors, managesCircle, muteOf } from '../../service/model.js';
import type { CirclePages } from '../../service/pages.js';
import type { ChatLimits } from './limits.js';
import { type ReactionCount, type UnreadRow, messageStore, readStore } from '../store/messages.js';

export interface ChatDeps {
  readonly db: Database<CirclesTables>;
  readonly bus: EventPublisher;
  readonly now: () => Date;
  /** Seals message bodies at rest (HEARTH_CIRCLE_MESSAGE_KEYS). */
  readonly cipher: FieldCipher;
  /** Who has a block with whom: mentions across a block are dropped. */
  readonly blocks: BlockSource;
  readonly pages: CirclePages;
  readonly limits: ChatLimits;
}

export interface ThreadPage {
  readonly root: MessageView;
  readonly replies: readonly MessageView[];
  readonly next: string;
}

export interface UnreadPage {
  readonly counts: readonly UnreadRow[];
  readonly next: string;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const DEFAULT_UNREAD_PAGE = 100;

/** A message as stored, with its body opened, its kept mentions and its reactions. */
export interface MessageView {
  readonly row: MessageRow;
  readonly body: string;
  readonly mentions: readonly string[];
  /** In the order each emoji was first used; `mine` as the reader sees it. */
  readonly reactions: readonly ReactionCount[];
  /** The reader and the sender have a block between them: a placeholder (no body, mentions, reactions). */
  readonly hidden?: boolean;
}

export interface MessageEdit {
  readonly circleId: string;
  readonly messageId: string;
  readonly version: bigint;
  readonly body: string;
  readonly mentionUserIds: readonly string[];
}

export interface NewMessage {
  readonly circleId: string;
  readonly clientMessageId: string;
  readonly body: string;
  readonly threadRootId?: string | undefined;
  readonly mentionUserIds: readonly string[];
}

/** Where ListMessages reads from (chat_service.proto ListMessagesRequest). */
export type ReadPosition = { readonly after: number } | { readonly before: number } | { readonly newest: true };

export interface MessagePage {
  readonly messages: readonly MessageView[];
  readonly hasMore: boolean;
  readonly lastSeq: number;
}

const DEFAULT_PAGE = 50;
const SENDER_CLIENT_ID = 'messages_sender_client_id';
/** Thrown inside SendMessage's transaction to roll it back when the message was not stored. */
const NOT_STORED = Symbol('not stored');

/** Sending and reading a circle's messages. */
export class ChatMessages {
  constructor(private readonly d: ChatDeps) {}

  /**
   * Stores a message with the circle's next seq, or returns the one an earlier call with the
   * same client_message_id stored (AlreadyExists if that one asked for something else).
   */
  async send(actor: Actor, input: NewMessage): Promise<MessageView> {
    const bodyKey = Buffer.from(this.d.cipher.digest(input.body)).toString('base64url');
    try {
      await this.d.limits.check(actor.userId, bodyKey);
      const { candidates, blocked } = await this.mentionCandidates(actor, input.mentionUserIds);
      return await this.d.db.transaction(async (tx) => {
        // The circle's row lock first: a removal or mute committed before it is seen below.
        const next = await messageStore.nextSeq(tx, input.circleId);
        if (!next) throw errors.circleNotFound();
        if (next.archived) throw NOT_STORED;
        const now = this.d.now();
        if (input.threadRootId !== undefined) {
          // A reply: who may send is checked first, then its root (locked, so it stays).
          const refusal = await this.sendRefusal(tx, actor, input.circleId, now);
          if (refusal) throw refusal;
          await this.checkThreadRoot(tx, input.circleId, input.threadRootId);
        }
        const id = newId();
        const sealed = this.d.cipher.seal(input.body, id);
        const mentions = candidates.length > 0 ? await this.keptMentions(tx, input.circleId, candidates, blocked) : [];
        const row = await messageStore.insertFromMember(tx, {
          id,
          circle_id: input.circleId,
          seq: next.seq,
          sender_id: actor.userId,
          client_message_id: input.clientMessageId,
          request_digest: this.d.cipher.digest(requestText(input), sealed.keyId),
          digest_key_id: sealed.keyId,
          thread_root_id: input.threadRootId ?? null,
          body_key_id: sealed.keyId,
          body: sealed.data,
          create_time: now,
        });
        // Not a member, muted, or the key is taken: rolled back, seq and all; see below.
        if (!row) throw NOT_STORED;
        if (input.threadRootId !== undefined) await messageStore.addReply(tx, input.threadRootId, now);
        await messageStore.insertMentions(tx, mentions.map((user_id) => ({ message_id: id, user_id, circle_id: input.circleId, create_time: now })));
        tx.onCommit(() => this.d.bus.publish(chatMessageTopic, { circleId: input.circleId, messageId: id, seq: next.seq, change: 'created' }));
        tx.onCommit(() => this.d.limits.count(actor.userId, bodyKey));
        return { row, body: input.body, mentions, reactions: [] };
      });
    } catch (err) {
      return this.afterNotStored(actor, input, err);
    }
  }

  /**
   * A send that was refused or not stored. A message stored earlier with the same
   * client_message_id wins over any refusal: a retry gets its original (or AlreadyExists)
   * whatever changed since, limits and mutes included. Otherwise the reason, in the order
   * chat_service.proto gives them.
   */
  private async afterNotStored(actor: Actor, input: NewMessage, err: unknown): Promise<MessageView> {
    if (!(err === NOT_STORED || err instanceof ConnectError || isUniqueViolation(err, SENDER_CLIENT_ID))) throw err;
    const earlier = await messageStore.findByClientId(this.d.db.db, actor.userId, input.clientMessageId);
    if (earlier) return this.replay(earlier, input);
    if (err !== NOT_STORED) throw err;
    const refusal = await this.sendRefusal(this.d.db.db, actor, input.circleId, this.d.now());
    // Neither stored now nor before: the sender's standing changed in between; the app retries.
    throw refusal ?? new ConnectError('the message could not be stored just now; send it again', Code.Aborted);
  }

  /** Why `actor` may not send to the circle at `now`, if they may not. */
  private async sendRefusal(db: Db, actor: Actor, circleId: string, now: Date): Promise<ConnectError | undefined> {
    const circle = await circleStore.find(db, circleId);
    if (!circle) return errors.circleNotFound();
    const me = await memberStore.find(db, circleId, actor.userId);
    if (!me) return errors.denied('only members may send messages to this circle');
    const mutedUntil = muteOf(me, now);
    if (mutedUntil) return mutedError(mutedUntil);
    if (circle.archive_time) return errors.archived();
    return undefined;
  }

  /** The sender replaces the body and mentions of their message; it keeps its seq. */
  async edit(actor: Actor, input: MessageEdit): Promise<MessageView> {
    const { candidates, blocked } = await this.mentionCandidates(actor, input.mentionUserIds);
    return this.d.db.transaction(async (tx) => {
      const circle = await circleStore.find(tx, input.circleId);
      if (!circle) throw errors.circleNotFound();
      const m = await messageStore.find(tx, input.circleId, input.messageId, { forUpdate: true });
      if (!m) throw messageNotFound();
      if (m.sender_id !== actor.userId) throw errors.denied('only the sender may edit a message');
      const me = await memberStore.find(tx, input.circleId, actor.userId);
      if (!me) throw errors.denied('only members may edit their messages');
      const now = this.d.now();
      const mutedUntil = muteOf(me, now);
      if (mutedUntil) throw mutedError(mutedUntil);
      if (circle.archive_time) throw errors.archived();
      if (m.delete_time) throw new ConnectError('the message was deleted', Code.FailedPrecondition);
      assertVersion('message', m.version, input.version);
      const sealed = this.d.cipher.seal(input.body, m.id);
      const row = await messageStore.update(tx, m.id, { body: sealed.data, body_key_id: sealed.keyId, edit_time: now });
      const mentions = await this.keptMentions(tx, input.circleId, candidates, blocked);
      await messageStore.deleteMentions(tx, m.id);
      await messageStore.insertMentions(tx, mentions.map((user_id) => ({ message_id: m.id, user_id, circle_id: input.circleId, create_time: now })));
      tx.onCommit(() => this.d.bus.publish(chatMessageTopic, { circleId: input.circleId, messageId: m.id, seq: Number(m.seq), change: 'edited' }));
      const [view] = await this.present(tx, [row], actor.userId);
      return view!;
    });
  }

  /**
   * Deletes a message: its sender, the circle's owner and hosts, or platform moderators. A
   * tombstone stays (id and seq); body and mentions go. Removing is possible in an archived
   * circle too. Deleting a deleted message returns the tombstone.
   */
  async delete(actor: Actor, input: { circleId: string; messageId: string; reason: string }): Promise<MessageView> {
    return this.d.db.transaction(async (tx) => {
      const m = await messageStore.find(tx, input.circleId, input.messageId, { forUpdate: true });
      if (!m) throw messageNotFound();
      const own = m.sender_id === actor.userId;
      if (!own) {
        const me = await memberStore.find(tx, input.circleId, actor.userId);
        if (!managesCircle(me, actor)) throw errors.denied("only the sender, the circle's owner and hosts, and moderators may delete a message");
      }
      if (m.delete_time) return { row: m, body: '', mentions: [], reactions: [] };
      const now = this.d.now();
      const row = await messageStore.update(tx, m.id, { body: null, body_key_id: null, delete_time: now, pin_time: null, pinned_by: null });
      await messageStore.deleteMentions(tx, m.id);
      await messageStore.deleteReactions(tx, m.id);
      await auditStore.insert(tx, {
        actor: actor.userId,
        action: 'message.delete',
        circleId: input.circleId,
        target: m.id,
        ...(own ? {} : { reason: input.reason }),
        details: { seq: Number(m.seq), sender: m.sender_id, own },
        now,
      });
      tx.onCommit(() => this.d.bus.publish(chatMessageTopic, { circleId: input.circleId, messageId: m.id, seq: Number(m.seq), change: 'deleted' }));
      return { row, body: '', mentions: [], reactions: [] };
    });
  }

  /** Messages after a seq for delivery, for no reader in particular (the gateway's read). */
  async forDelivery(circleId: string, afterSeq: number, limit: number): Promise<{ messages: MessageView[]; lastSeq: number }> {
    // One round trip: it runs for every message on every gateway.
    const read = await messageStore.deliveryRange(this.d.db.db, circleId, afterSeq, limit);
    if (!read) throw errors.circleNotFound();
    const messages = read.messages.map(({ row, mentions, reactions }) =>
      row.delete_time !== null ? { row, body: '', mentions: [], reactions: [] } : { row, body: this.bodyOf(row), mentions, reactions },
    );
    return { messages, lastSeq: read.lastSeq };
  }

  /** Reads messages by seq: after a seq, before one, or the newest; ascending, no holes. */
  async list(viewer: Actor, circleId: string, position: ReadPosition, pageSize: number): Promise<MessagePage> {
    await this.auditStaffRead(viewer, circleId, 'list');
    const size = pageSizeOf(pageSize, DEFAULT_PAGE);
    const lastSeq = await messageStore.lastSeq(this.d.db.db, circleId);
    if (lastSeq === undefined) throw errors.circleNotFound();
    // Seqs are dense, so a page is a range of them.
    let from: number;
    let to: number;
    let hasMore: boolean;
    if ('after' in position) {
      from = position.after + 1;
      to = Math.min(lastSeq, position.after + size);
      hasMore = to < lastSeq;
    } else {
      to = 'before' in position ? Math.min(position.before - 1, lastSeq) : lastSeq;
      from = Math.max(1, to - size + 1);
      hasMore = from > 1;
    }
    const rows = await messageStore.range(this.d.db.db, circleId, from, to);
    return { messages: await this.views(rows, viewer.userId), hasMore: hasMore && rows.length > 0, lastSeq };
  }

  /**
   * A platform moderator reading a circle they are not a member of leaves a trace in the
   * circle's audit log (chat_service.proto: "their reads are audited").
   */
  async auditStaffRead(viewer: Actor, circleId: string, what: 'list' | 'thread' | 'pins'): Promise<void> {
    if (!viewer.staff) return;
    const me = await memberStore.find(this.d.db.db, circleId, viewer.userId);
    if (me) return;
    await auditStore.insert(this.d.db.db, { actor: viewer.userId, action: 'messages.read', circleId, details: { what }, now: this.d.now() });
  }

  /** Blocks come from the user service (cached): asked before a transaction, not inside it. */
  private async mentionCandidates(actor: Actor, ids: readonly string[]): Promise<{ candidates: string[]; blocked: ReadonlySet<string> }> {
    const candidates = [...new Set(ids)].filter((id) => id !== actor.userId);
    const blocked = candidates.length > 0 ? await this.d.blocks.blockedAmong(actor.userId, candidates) : new Set<string>();
    return { candidates, blocked };
  }

  /** The mentions kept: members of the circle without a block with the sender, sorted. */
  private async keptMentions(tx: Db, circleId: string, candidates: readonly string[], blocked: ReadonlySet<string>): Promise<string[]> {
    const members = await messageStore.membersAmong(tx, circleId, candidates.filter((u) => !blocked.has(u)));
    return candidates.filter((u) => members.has(u)).sort();
  }

  /** A thread: its top-level message and a page of its replies in seq order. */
  async thread(viewer: Actor, circleId: string, rootId: string, pageSize: number, pageToken: string): Promise<ThreadPage> {
    await this.auditStaffRead(viewer, circleId, 'thread');
    const size = pageSizeOf(pageSize, DEFAULT_PAGE);
    const after = this.d.pages.thread.decode(pageToken, rootId)?.seq ?? 0;
    const root = await messageStore.find(this.d.db.db, circleId, rootId);
    if (!root) throw messageNotFound();
    if (root.thread_root_id !== null) throw new ConnectError('the message is a reply; ask for the thread of its root', Code.FailedPrecondition);
    const rows = await messageStore.replies(this.d.db.db, rootId, after, size + 1);
    const { items, next } = this.d.pages.thread.page(rows, size, (r) => ({ seq: Number(r.seq) }), rootId);
    const [rootView, ...replies] = await this.views([root, ...items], viewer.userId);
    return { root: rootView!, replies, next };
  }

  /**
   * Moves the caller's read position forward to `seq` (a seq past the newest counts as the
   * newest); never back. Returns the position and unread count after it.
   */
  async markRead(actor: Actor, circleId: string, seq: number): Promise<UnreadRow> {
    const row = await this.d.db.transaction(async (tx) => {
      const lastSeq = await messageStore.lastSeq(tx, circleId);
      if (lastSeq === undefined) throw errors.circleNotFound();
      const position = await readStore.advance(tx, actor.userId, circleId, Math.min(seq, lastSeq), this.d.now());
      const [counted] = await readStore.counts(tx, actor.userId, { circleIds: [circleId] });
      if (!counted) throw errors.denied('only members have a read position in a circle');
      tx.onCommit(() =>
        this.d.bus.publish(readMarkerTopic, {
          userId: actor.userId,
          circleId,
          lastSeq: counted.last_seq,
          lastReadSeq: position,
          unreadCount: counted.unread,
        }),
      );
      return counted;
    });
    return row;
  }

  /** Unread counts for the given circles, or a page of all the caller's circles. */
  async unreadCounts(actor: Actor, circleIds: readonly string[], pageSize: number, pageToken: string): Promise<UnreadPage> {
    if (circleIds.length > 0) {
      const rows = await readStore.counts(this.d.db.db, actor.userId, { circleIds });
      const order = new Map(circleIds.map((id, i) => [id, i]));
      return { counts: rows.sort((a, b) => (order.get(a.circle_id) ?? 0) - (order.get(b.circle_id) ?? 0)), next: '' };
    }
    const size = pageSizeOf(pageSize, DEFAULT_UNREAD_PAGE);
    const after = this.d.pages.unread.decode(pageToken)?.id ?? NIL_UUID;
    const rows = await readStore.counts(this.d.db.db, actor.userId, { after, limit: size + 1 });
    const { items, next } = this.d.pages.unread.page(rows, size, (r) => ({ id: r.circle_id }));
    return { counts: items, next };
  }

  /**
   * Messages as `viewerId` reads them: their own reactions marked, tombstones bare, and the
   * words of anyone they have a block with (either way) replaced by a placeholder.
   */
  async present(db: Db, rows: readonly MessageRow[], viewerId: string | undefined): Promise<MessageView[]> {
    const senders = [...new Set(rows.map((r) => r.sender_id).filter((s): s is string => s !== null && s !== viewerId))];
    const blocked = viewerId && senders.length > 0 ? await this.d.blocks.blockedAmong(viewerId, senders) : new Set<string>();
    const hidden = (r: MessageRow) => r.sender_id !== null && blocked.has(r.sender_id);
    const live = rows.filter((r) => r.delete_time === null && !hidden(r)).map((r) => r.id);
    const [mentions, reactions] = await Promise.all([messageStore.mentionsOf(db, live), messageStore.reactionsOf(db, live, viewerId)]);
    return rows.map((row) => {
      if (hidden(row)) return { row, body: '', mentions: [], reactions: [], hidden: true };
      if (row.delete_time !== null) return { row, body: '', mentions: [], reactions: [] };
      return { row, body: this.bodyOf(row), mentions: mentions.get(row.id) ?? [], reactions: reactions.get(row.id) ?? [] };
    });
  }

  /** The caller's mentions inbox, newest first (blocked senders and deleted messages left out). */
  async mentions(actor: Actor, pageSize: number, pageToken: string): Promise<{ messages: MessageView[]; next: string }> {
    const size = pageSizeOf(pageSize, DEFAULT_PAGE);
    const after = this.d.pages.mentions.decode(pageToken);
    // Rows hidden by a block are dropped after the fetch, so a page may come back short; the
    // token still moves on from the last row read.
    const rows = await messageStore.mentionsFor(this.d.db.db, actor.userId, after, size + 1);
    const { items, next } = this.d.pages.mentions.page(rows, size, (r) => ({ t: r.mention_time, id: r.id }));
    const views = await this.present(this.d.db.db, items, actor.userId);
    return { messages: views.filter((v) => !v.hidden), next };
  }

  private async views(rows: readonly MessageRow[], viewerId?: string): Promise<MessageView[]> {
    return this.present(this.d.db.db, rows, viewerId);
  }

  private bodyOf(row: MessageRow): string {
    if (row.body === null || row.body_key_id === null || row.delete_time !== null) return '';
    return this.d.cipher.open({ keyId: row.body_key_id, data: row.body }, row.id);
  }

  private async replay(earlier: MessageRow, input: NewMessage): Promise<MessageView> {
    const same =
      earlier.circle_id === input.circleId &&
      earlier.request_digest !== null &&
      earlier.digest_key_id !== null &&
      this.d.cipher.digestMatches(requestText(input), { digest: earlier.request_digest, keyId: earlier.digest_key_id });
    if (!same) {
      throw new ConnectError(
        'client_message_id was already used for a different message; give each new message an id of its own',
        Code.AlreadyExists,
      );
    }
    const [view] = await this.views([earlier], earlier.sender_id ?? undefined);
    return view!;
  }

  private async checkThreadRoot(tx: Db, circleId: string, rootId: string): Promise<void> {
    const root = await messageStore.find(tx, circleId, rootId, { forUpdate: true });
    if (!root) throw new ConnectError('thread_root_id is not a message of this circle', Code.NotFound);
    if (root.thread_root_id !== null) throw new ConnectError('thread_root_id is a reply; threads are one level deep', Code.FailedPrecondition);
    if (root.delete_time !== null) throw new ConnectError('thread_root_id was deleted', Code.FailedPrecondition);
  }
}

/** What a SendMessage asked for, as its idempotency digest covers it (the circle is compared apart). */
function requestText(input: NewMessage): string {
  return JSON.stringify([input.threadRootId ?? '', input.body]);
}

export function messageNotFound(): ConnectError {
  return new ConnectError('message not found', Code.NotFound);
}

