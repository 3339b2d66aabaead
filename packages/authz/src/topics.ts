import { defineTopic } from '@hearth/db';
import { z } from 'zod';

/**
 * The live events authorization listens to. The services that make the changes publish them
 * after commit (the circle service: memberships; the user service: blocks; the auth service:
 * revocations), and every process's caches drop what they say is stale.
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

/** circle.membership: one person's standing in a circle changed, or everyone's (no userId). */
export const membershipTopic = defineTopic(
  'circle.membership',
  z.object({
    circleId: uuid,
    userId: uuid.optional(),
    change: z.enum(MEMBERSHIP_CHANGES),
    role: z.enum(['owner', 'host', 'member']).optional(),
  }),
);
export type MembershipEvent = z.output<typeof membershipTopic.payload>;

/** user.blocks: a block between two people was added or removed (it works both ways). */
export const blocksTopic = defineTopic('user.blocks', z.object({ userId: uuid, otherUserId: uuid, blocked: z.boolean() }));
export type BlockEvent = z.output<typeof blocksTopic.payload>;

/** authz.session-revoked: every token of the session is refused until `until` (ISO time). */
export const sessionRevokedTopic = defineTopic(
  'authz.session-revoked',
  z.object({ sessionId: uuid, until: z.iso.datetime({ offset: true }) }),
);
