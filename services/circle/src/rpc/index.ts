import type { ConnectRouter } from '@connectrpc/connect';
import { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { chatHandlers } from '../chat/rpc/index.js';
import type { RpcDeps } from './context.js';
import { archiveCircle } from './archive-circle.js';
import { batchGetMemberships } from './batch-get-memberships.js';
import { createCircle } from './create-circle.js';
import { createInvite } from './create-invite.js';
import { discoverCircles } from './discover-circles.js';
import { getCircle } from './get-circle.js';
import { getMembership } from './get-membership.js';
import { joinCircle } from './join-circle.js';
import { leaveCircle } from './leave-circle.js';
import { listBans } from './list-bans.js';
import { listInvites } from './list-invites.js';
import { listMembers } from './list-members.js';
import { listMyCircles } from './list-my-circles.js';
import { listUserCircleIds } from './list-user-circle-ids.js';
import { muteMember } from './mute-member.js';
import { previewInvite } from './preview-invite.js';
import { removeMember } from './remove-member.js';
import { removeUserFromCircles } from './remove-user-from-circles.js';
import { revokeInvite } from './revoke-invite.js';
import { setMemberRole } from './set-member-role.js';
import { unbanMember } from './unban-member.js';
import { unmuteMember } from './unmute-member.js';
import { updateCircle } from './update-circle.js';

export type { RpcDeps } from './context.js';

/** The handlers of CircleService, one file per RPC, and of ChatService (ADR 0007, chat/rpc). */
export function registerRpc(router: ConnectRouter, deps: RpcDeps): void {
  router.service(CircleService, {
    createCircle: createCircle(deps),
    getCircle: getCircle(deps),
    updateCircle: updateCircle(deps),
    archiveCircle: archiveCircle(deps),
    listMyCircles: listMyCircles(deps),
    discoverCircles: discoverCircles(deps),
    createInvite: createInvite(deps),
    listInvites: listInvites(deps),
    revokeInvite: revokeInvite(deps),
    previewInvite: previewInvite(deps),
    joinCircle: joinCircle(deps),
    leaveCircle: leaveCircle(deps),
    listMembers: listMembers(deps),
    setMemberRole: setMemberRole(deps),
    removeMember: removeMember(deps),
    unbanMember: unbanMember(deps),
    listBans: listBans(deps),
    muteMember: muteMember(deps),
    unmuteMember: unmuteMember(deps),
    getMembership: getMembership(deps),
    batchGetMemberships: batchGetMemberships(deps),
    listUserCircleIds: listUserCircleIds(deps),
    removeUserFromCircles: removeUserFromCircles(deps),
  });
  router.service(ChatService, chatHandlers({ messages: deps.chat, marks: deps.marks }));
}
