import { defineTopic } from '@hearth/db';
import { z } from 'zod';

/**
 * The live events between Hearth's processes, each defined once for publishers and
 * subscribers. The services that make the changes publish them after commit (the circle
 * service: memberships and chat; the user service: blocks; the auth service: revocations);
 * every process's authorization caches drop what they say is stale, and the realtime gateway
 * delivers them to sockets. (They live here because authorization was their first listener;
 * a package of their own is due once posts and support add theirs.)
 */

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** What changed about someone's standing in a circle. */
export const MEMBERSHIP_CHANGES = [
  'joined',
  'left',
  'removed',
  'banned',
  'unbanned',
  'role',
  'muted',
  'unmuted',
  'archived',
  /** Concerns everyone's standing (a private circle hides from non-members), so it names no user. */
  'visibility',
] as const;
export type MembershipChange = (typeof MEMBERSHIP_CHANGES)[number];

/**
 * circle.membership: one person's standing in a circle changed, or everyone's (no userId).
 * `member` is the membership as it is now, where there is one (joined, role, muted, unmuted),
 * for the person's own devices (the realtime user channel).
 */
export const membershipTopic = defineTopic(
  'circle.membership',
  z.object({
    circleId: uuid,
    userId: uuid.optional(),
    change: z.enum(MEMBERSHIP_CHANGES),
    role: z.enum(['owner', 'host', 'member']).optional(),
    member: z
      .object({ joinTime: z.iso.datetime({ offset: true }), version: z.number().int().positive(), muteExpireTime: z.iso.datetime({ offset: true }).optional() })
      .optional(),
  }),
);
export type MembershipEvent = z.output<typeof membershipTopic.payload>;

/** user.blocks: a block between two people was added or removed (it works both ways). */
export const blocksTopic = defineTopic('user.blocks', z.object({ userId: uuid, otherUserId: uuid, blocked: z.boolean() }));
export type BlockEvent = z.output<typeof blocksTopic.payload>;

/**
 * user.presence-sharing: someone turned PrivacySettings.show_presence on or off; the realtime
 * gateways announce them, or stop and say they went offline, at once.
 */
export const presenceSharingTopic = defineTopic('user.presence-sharing', z.object({ userId: uuid, sharing: z.boolean() }));
export type PresenceSharingEvent = z.output<typeof presenceSharingTopic.payload>;

/** authz.session-revoked: every token of the session is refused until `until` (ISO time). */
export const sessionRevokedTopic = defineTopic(
  'authz.session-revoked',
  z.object({ sessionId: uuid, until: z.iso.datetime({ offset: true }) }),
);

/**
 * chat.message: a message of a circle was stored or changed (published after commit):
 * created, edited, deleted, reacted (with the reaction, its count now and the message's
 * version), pinned or unpinned. It names the message, its seq and sender, never its body:
 * whoever delivers it reads the message from the circle service by seq, so the bus never
 * carries words, and a lost event is healed by reading on from the last seq.
 */
export const chatMessageTopic = defineTopic(
  'chat.message',
  z.object({
    circleId: uuid,
    messageId: uuid,
    seq: z.number().int().positive(),
    change: z.enum(['created', 'edited', 'deleted', 'reacted', 'pinned', 'unpinned']),
    senderId: uuid.optional(),
    reaction: z
      .object({ emoji: z.string().min(1).max(64), userId: uuid, added: z.boolean(), count: z.number().int().nonnegative(), version: z.number().int().positive() })
      .optional(),
  }),
);
export type ChatMessageEvent = z.output<typeof chatMessageTopic.payload>;

/** chat.read-marker: a person's read position in a circle moved (for their other devices), with the count after it. */
export const readMarkerTopic = defineTopic(
  'chat.read-marker',
  z.object({
    userId: uuid,
    circleId: uuid,
    lastSeq: z.number().int().nonnegative(),
    lastReadSeq: z.number().int().nonnegative(),
    unreadCount: z.number().int().nonnegative(),
  }),
);
export type ReadMarkerEvent = z.output<typeof readMarkerTopic.payload>;

/**
 * chat.typing: someone is typing in a circle (or stopped). Ephemeral: published by the gateway
 * that received the Typing frame, delivered by every gateway to the circle's other sockets,
 * never stored; a lost one only shortens an indicator.
 */
export const typingTopic = defineTopic(
  'chat.typing',
  z.object({ circleId: uuid, userId: uuid, isTyping: z.boolean(), threadRootId: uuid.optional(), expireTime: z.iso.datetime({ offset: true }) }),
);
export type TypingEvent = z.output<typeof typingTopic.payload>;
