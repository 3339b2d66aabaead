import { type Handlers, type RpcDeps, actor } from './context.js';
import { responseMessage } from './mappers.js';

export function editResponse(deps: RpcDeps): Handlers['editResponse'] {
  return async (req, ctx) => {
    const { view, crisisSuggested } = await deps.responses.edit(actor(ctx), { id: req.id, version: req.version, body: req.body });
    return { response: responseMessage(view), crisisResourcesSuggested: crisisSuggested };
  };
}
