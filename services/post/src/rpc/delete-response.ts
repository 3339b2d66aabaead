import { type Handlers, type RpcDeps, actor } from './context.js';
import { responseMessage } from './mappers.js';

export function deleteResponse(deps: RpcDeps): Handlers['deleteResponse'] {
  return async (req, ctx) => ({ response: responseMessage(await deps.responses.delete(actor(ctx), req.id, req.version)) });
}
