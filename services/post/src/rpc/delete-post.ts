import { type Handlers, type RpcDeps, actor } from './context.js';
import { postMessage } from './mappers.js';

export function deletePost(deps: RpcDeps): Handlers['deletePost'] {
  return async (req, ctx) => ({ post: postMessage(await deps.posts.delete(actor(ctx), req.id, req.version)) });
}
