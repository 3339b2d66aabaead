import { type Handlers, type RpcDeps, actor } from './context.js';
import { responseMessage } from './mappers.js';

export function listResponses(deps: RpcDeps): Handlers['listResponses'] {
  return async (req, ctx) => {
    const { views, next } = await deps.responses.list(actor(ctx), req.postId, req.pageSize, req.pageToken);
    return { responses: views.map(responseMessage), nextPageToken: next };
  };
}
