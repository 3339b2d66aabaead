import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { requireIdentity } from '@hearth/authz';
import type { CircleService as CircleServiceDesc } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import type { MessageMarks } from '../chat/service/marks.js';
import type { ChatMessages } from '../chat/service/messages.js';
import type { AccountRemoval } from '../service/account-removal.js';
import type { Circles } from '../service/circles.js';
import type { Invites } from '../service/invites.js';
import type { MemberActions } from '../service/member-actions.js';
import type { Memberships } from '../service/memberships.js';
import { type Actor, actorOf } from '../service/model.js';

/** What the handlers need: the services, and the clock mutes are compared with. */
export interface RpcDeps {
  readonly circles: Circles;
  readonly invites: Invites;
  readonly memberships: Memberships;
  readonly admin: MemberActions;
  readonly removal: AccountRemoval;
  readonly chat: ChatMessages;
  readonly marks: MessageMarks;
  readonly now: () => Date;
}

export type Handlers = Partial<ServiceImpl<typeof CircleServiceDesc>>;

/** The signed-in caller; the actor is always the token's subject, never a request field. */
export function actor(ctx: HandlerContext): Actor {
  return actorOf(requireIdentity(ctx));
}
