import { type Handlers, type RpcDeps, actor } from './context.js';
import { postMessage } from './mappers.js';

export function getPost(deps: RpcDeps): Handlers['getPost'] {
  return async (req, ctx) => ({ post: postMessage(await deps.posts.get(actor(ctx), req.id)) });
}
