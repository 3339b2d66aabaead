import { Code, ConnectError } from '@connectrpc/connect';
import emojiRegex from 'emoji-regex';
import { chatMessageTopic, fieldError, fieldViolation, mutedError } from '@hearth/authz';
import { AddReactionRequestSchema } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import type { Tx } from '@hearth/db';
import { circleStore } from '../../store/circles.js';
import { memberStore } from '../../store/members.js';
import type { CirclesTables, MessageRow } from '../../store/schema.js';
import { type Actor, errors, muteOf } from '../../service/model.js';
import { messageStore } from '../store/messages.js';
import { type ChatDeps, type ChatMessages, type MessageView, messageNotFound } from './messages.js';

/** resources.proto: a message carries at most this many distinct emoji. */
export const MAX_EMOJI_PER_MESSAGE = 20;
/** chat_service.proto PinMessage: pins per circle. */
export const MAX_PINS = 3;
const DEFAULT_PINS_PAGE = 50;

/**
 * True when `text` is exactly one emoji as Unicode defines them (RGI emoji, sequences with
 * skin tones and ZWJ included), by the emoji-regex package's pattern, kept in step with the
 * Unicode data, never a hand-written one.
 */
export function isOneEmoji(text: string): boolean {
  const matches = text.match(emojiRegex());
  return matches !== null && matches.length === 1 && matches[0] === text;
}

/** Reactions and pins: marks people put on messages. */
export class MessageMarks {
  constructor(
    private readonly d: ChatDeps,
    private readonly messages: ChatMessages,
  ) {}

  /** One reaction per emoji per person; adding one already made returns the message. */
  async react(actor: Actor, input: { circleId: string; messageId: string; emoji: string }): Promise<MessageView> {
    const emoji = checkedEmoji(input.emoji);
    return this.change(actor, input.circleId, input.messageId, { muteMatters: true, change: 'reacted', reaction: { emoji, added: true } }, async (tx, m, now) => {
      const known = await messageStore.hasEmoji(tx, m.id, emoji);
      if (!known && (await messageStore.distinctEmoji(tx, m.id)) >= MAX_EMOJI_PER_MESSAGE) {
        throw new ConnectError(`a message takes at most ${MAX_EMOJI_PER_MESSAGE} different emoji`, Code.FailedPrecondition);
      }
      return (await messageStore.addReaction(tx, { message_id: m.id, user_id: actor.userId, emoji, create_time: now })) ? {} : undefined;
    });
  }

  /** Removing a reaction the person did not make succeeds. */
  async unreact(actor: Actor, input: { circleId: string; messageId: string; emoji: string }): Promise<MessageView> {
    const emoji = checkedEmoji(input.emoji);
    return this.change(actor, input.circleId, input.messageId, { muteMatters: false, deletedOk: true, change: 'reacted', reaction: { emoji, added: false } }, async (tx, m) =>
      (await messageStore.removeReaction(tx, m.id, actor.userId, emoji)) ? {} : undefined,
    );
  }

  /** Owner, hosts and moderators (the rule table); at most MAX_PINS per circle; idempotent. */
  async pin(actor: Actor, input: { circleId: string; messageId: string }): Promise<MessageView> {
    return this.change(actor, input.circleId, input.messageId, { muteMatters: false, member: false, change: 'pinned' }, async (tx, m, now) => {
      if (m.pin_time) return undefined;
      if ((await messageStore.pinCount(tx, input.circleId)) >= MAX_PINS) {
        throw new ConnectError(`a circle has at most ${MAX_PINS} pins; unpin one first`, Code.FailedPrecondition);
      }
      return { pin_time: now, pinned_by: actor.userId };
    });
  }

  async unpin(actor: Actor, input: { circleId: string; messageId: string }): Promise<MessageView> {
    return this.change(actor, input.circleId, input.messageId, { muteMatters: false, member: false, deletedOk: true, change: 'unpinned' }, async (_tx, m) =>
      m.pin_time ? { pin_time: null, pinned_by: null } : undefined,
    );
  }

  /** A circle's pins, most recently pinned first. */
  async pins(viewer: Actor, circleId: string, pageSize: number, pageToken: string): Promise<{ messages: MessageView[]; next: string }> {
    await this.messages.auditStaffRead(viewer, circleId, 'pins');
    const size = pageSize > 0 ? pageSize : DEFAULT_PINS_PAGE;
    const after = this.d.pages.pins.decode(pageToken, circleId);
    const rows = await messageStore.pins(this.d.db.db, circleId, after, size + 1);
    const { items, next } = this.d.pages.pins.page(rows, size, (r) => ({ t: r.pin_time!, id: r.id }), circleId);
    return { messages: await this.messages.present(this.d.db.db, items, viewer.userId), next };
  }

  /**
   * Runs one change to a message under its row lock after the checks every change shares;
   * `apply` returns the columns to change (the version grows), {} to bump the version only,
   * or undefined when nothing changed (idempotent repeats).
   */
  private async change(
    actor: Actor,
    circleId: string,
    messageId: string,
    opts: {
      muteMatters: boolean;
      member?: boolean;
      deletedOk?: boolean;
      /** What the live event says happened. */
      change: 'reacted' | 'pinned' | 'unpinned';
      reaction?: { emoji: string; added: boolean };
    },
    apply: (tx: Tx<CirclesTables>, m: MessageRow, now: Date) => Promise<Partial<Pick<MessageRow, 'pin_time' | 'pinned_by'>> | undefined>,
  ): Promise<MessageView> {
    return this.d.db.transaction(async (tx) => {
      const circle = await circleStore.find(tx, circleId);
      if (!circle) throw errors.circleNotFound();
      const now = this.d.now();
      if (opts.member ?? true) {
        const me = await memberStore.find(tx, circleId, actor.userId);
        if (!me) throw errors.denied('only members may do this');
        const mutedUntil = opts.muteMatters ? muteOf(me, now) : undefined;
        if (mutedUntil) throw mutedError(mutedUntil);
      }
      if (circle.archive_time) throw errors.archived();
      let m = await messageStore.find(tx, circleId, messageId, { forUpdate: true });
      if (!m) throw messageNotFound();
      if (m.delete_time && !opts.deletedOk) throw new ConnectError('the message was deleted', Code.FailedPrecondition);
      const changes = m.delete_time ? undefined : await apply(tx, m, now);
      if (changes) m = await messageStore.update(tx, m.id, changes);
      const [view] = await this.messages.present(tx, [m], actor.userId);
      if (changes) {
        const row = m;
        const reaction = opts.reaction && {
          ...opts.reaction,
          userId: actor.userId,
          count: view!.reactions.find((r) => r.emoji === opts.reaction!.emoji)?.count ?? 0,
          version: Number(row.version),
        };
        tx.onCommit(() =>
          this.d.bus.publish(chatMessageTopic, {
            circleId,
            messageId: row.id,
            seq: Number(row.seq),
            change: opts.change,
            ...(row.sender_id ? { senderId: row.sender_id } : {}),
            ...(reaction ? { reaction } : {}),
          }),
        );
      }
      return view!;
    });
  }
}

/** The emoji field of AddReaction and RemoveReaction (same field number and rules). */
function checkedEmoji(text: string): string {
  if (!isOneEmoji(text)) throw fieldError([fieldViolation(AddReactionRequestSchema, 'emoji', 'hearth.emoji', 'must be exactly one emoji')]);
  return text;
}
