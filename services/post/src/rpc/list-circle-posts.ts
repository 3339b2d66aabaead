import { type Handlers, type RpcDeps, actor } from './context.js';
import { postMessage } from './mappers.js';

export function listCirclePosts(deps: RpcDeps): Handlers['listCirclePosts'] {
  return async (req, ctx) => {
    const { views, next } = await deps.posts.listCircle(actor(ctx), req.circleId, req.pageSize, req.pageToken);
    return { posts: views.map(postMessage), nextPageToken: next };
  };
}
