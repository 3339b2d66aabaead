import { type Handlers, type RpcDeps, actor } from './context.js';
import { VISIBILITY_FROM_PROTO, postMessage } from './mappers.js';

export function editPost(deps: RpcDeps): Handlers['editPost'] {
  return async (req, ctx) => {
    const { view, crisisSuggested } = await deps.posts.edit(actor(ctx), {
      id: req.id,
      version: req.version,
      body: req.body,
      contentWarning: req.contentWarning,
      visibility: req.visibility === undefined ? undefined : VISIBILITY_FROM_PROTO[req.visibility],
    });
    return { post: postMessage(view), crisisResourcesSuggested: crisisSuggested };
  };
}
