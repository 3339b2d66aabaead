import { type Handlers, type RpcDeps, actor } from './context.js';
import { reactionsMessage } from './mappers.js';

export function removeReaction(deps: RpcDeps): Handlers['removeReaction'] {
  return async (req, ctx) => ({ reactions: reactionsMessage(await deps.posts.react(actor(ctx), req.postId, req.kind, false)) });
}
