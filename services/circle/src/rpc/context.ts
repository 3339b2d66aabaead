import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { requireIdentity } from '@hearth/authz';
import type { CircleService as CircleServiceDesc } from '@hearth/contracts/gen/hearth/circle/v1/circle_pb.js';
import type { AccountRemoval } from '../service/account-removal.js';
import type { CircleService } from '../service/circle-service.js';
import type { InviteService } from '../service/invite-service.js';
import type { MemberAdminService } from '../service/member-admin-service.js';
import type { MembershipService } from '../service/membership-service.js';
import { type Actor, actorOf } from '../service/model.js';

/** What the handlers need: the services, and the clock mutes are compared with. */
export interface RpcDeps {
  readonly circles: CircleService;
  readonly invites: InviteService;
  readonly memberships: MembershipService;
  readonly admin: MemberAdminService;
  readonly removal: AccountRemoval;
  readonly now: () => Date;
}

export type Handlers = Partial<ServiceImpl<typeof CircleServiceDesc>>;

/** The signed-in caller; the actor is always the token's subject, never a request field. */
export function actor(ctx: HandlerContext): Actor {
  return actorOf(requireIdentity(ctx));
}
