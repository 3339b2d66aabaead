import { requireIdentity } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { blockedMessage } from './mappers.js';

export function blockUser(deps: RpcDeps): Handlers['blockUser'] {
  return async (req, ctx) => ({ block: blockedMessage(await deps.blocks.block(requireIdentity(ctx), req.userId)) });
}
