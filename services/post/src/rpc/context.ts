import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { requireIdentity } from '@hearth/authz';
import type { PostService } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';
import { type Actor, actorOf } from '../service/model.js';
import type { Posts } from '../service/posts.js';
import type { Responses } from '../service/responses.js';

/** What the handlers need: the services, nothing else. */
export interface RpcDeps {
  readonly posts: Posts;
  readonly responses: Responses;
}

export type Handlers = Partial<ServiceImpl<typeof PostService>>;

/** The signed-in caller; the actor is always the token's subject, never a request field. */
export function actor(ctx: HandlerContext): Actor {
  return actorOf(requireIdentity(ctx));
}
