import { type Handlers, type RpcDeps, actor } from './context.js';
import { postMessage } from './mappers.js';

export function listUserPosts(deps: RpcDeps): Handlers['listUserPosts'] {
  return async (req, ctx) => {
    const { views, next } = await deps.posts.listUser(actor(ctx), req.userId, req.pageSize, req.pageToken);
    return { posts: views.map(postMessage), nextPageToken: next };
  };
}
