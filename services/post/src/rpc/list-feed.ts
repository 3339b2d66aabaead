import { type Handlers, type RpcDeps, actor } from './context.js';
import { postMessage } from './mappers.js';

export function listFeed(deps: RpcDeps): Handlers['listFeed'] {
  return async (req, ctx) => {
    const { views, next } = await deps.posts.listFeed(actor(ctx), req.pageSize, req.pageToken);
    return { posts: views.map(postMessage), nextPageToken: next };
  };
}
