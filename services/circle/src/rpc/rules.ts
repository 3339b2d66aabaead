import { defineRules, rule } from '@hearth/authz';
import { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';

const staff = { moderators: true } as const;
const membersOnly = { moderators: false } as const;

/**
 * Who may call each CircleService RPC (default deny; see packages/authz rules.ts). Private
 * circles are NotFound to non-members; `moderators` admits platform moderators and admins.
 */
export const circleRules = defineRules(CircleService, {
  createCircle: rule.signedIn(),
  getCircle: rule.circle('circleId', 'visible', staff),
  updateCircle: rule.circle('circleId', 'host', { ...membersOnly, note: 'visibility and member cap: owner only (service check)' }),
  archiveCircle: rule.circle('circleId', 'owner', staff),
  listMyCircles: rule.signedIn(),
  discoverCircles: rule.signedIn({ note: 'public circles only; circles of owners with a block are left out' }),
  createInvite: rule.circle('circleId', 'host', membersOnly),
  listInvites: rule.circle('circleId', 'host', membersOnly),
  revokeInvite: rule.circle('circleId', 'host', membersOnly),
  previewInvite: rule.signedIn({ note: 'the invite code is the credential' }),
  joinCircle: rule.signedIn({ note: 'public circles by id, any circle with a code; bans checked by the service' }),
  leaveCircle: rule.signedIn({ note: 'idempotent: leaving a circle one is not in succeeds' }),
  listMembers: rule.circle('circleId', 'member', staff),
  setMemberRole: rule.circle('circleId', 'owner', staff),
  removeMember: rule.circle('circleId', 'host', { ...staff, note: 'hosts may not remove the owner or other hosts (service check)' }),
  unbanMember: rule.circle('circleId', 'host', staff),
  listBans: rule.circle('circleId', 'host', staff),
  muteMember: rule.circle('circleId', 'host', { ...staff, note: 'hosts may not mute the owner or other hosts (service check)' }),
  unmuteMember: rule.circle('circleId', 'host', staff),
  getMembership: rule.internal({ selfField: 'userId' }),
  batchGetMemberships: rule.internal({ selfField: 'userId' }),
  listUserCircleIds: rule.internal({ selfField: 'userId', note: 'PostService.ListFeed' }),
  removeUserFromCircles: rule.internal({ note: 'UserService, when an account is deleted' }),
});

/** Who may call each ChatService RPC (ADR 0007: chat is its own Connect service in this one). */
export const chatRules = defineRules(ChatService, {
  sendMessage: rule.circle('circleId', 'member', { ...membersOnly, note: 'muted members refused by the service' }),
  editMessage: rule.circle('circleId', 'member', { ...membersOnly, note: "the sender's own message" }),
  deleteMessage: rule.circle('circleId', 'member', { ...staff, note: 'the sender, hosts and the owner (service check)' }),
  listMessages: rule.circle('circleId', 'member', staff),
  getThread: rule.circle('circleId', 'member', staff),
  addReaction: rule.circle('circleId', 'member', { ...membersOnly, note: 'muted members refused by the service' }),
  removeReaction: rule.circle('circleId', 'member', membersOnly),
  pinMessage: rule.circle('circleId', 'host', staff),
  unpinMessage: rule.circle('circleId', 'host', staff),
  listPins: rule.circle('circleId', 'member', staff),
  markRead: rule.circle('circleId', 'member', membersOnly),
  getUnreadCounts: rule.signedIn({ note: "the caller's own circles" }),
  listMentions: rule.signedIn({ note: "the caller's own mentions, in circles they are still in" }),
  listMessagesForDelivery: rule.internal({ note: 'the realtime gateway: backfill and live delivery' }),
});
