import { type Handlers, type RpcDeps, actor } from './context.js';
import { responseMessage } from './mappers.js';

export function createResponse(deps: RpcDeps): Handlers['createResponse'] {
  return async (req, ctx) => {
    const { view, crisisSuggested } = await deps.responses.create(actor(ctx), {
      idempotencyKey: req.idempotencyKey,
      postId: req.postId,
      body: req.body,
      anonymous: req.anonymous,
    });
    return { response: responseMessage(view), crisisResourcesSuggested: crisisSuggested };
  };
}
