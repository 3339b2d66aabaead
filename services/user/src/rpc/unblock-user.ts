import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';

export function unblockUser(deps: RpcDeps): Handlers['unblockUser'] {
  return async (req, ctx) => {
    await deps.blocks.unblock(requireIdentity(ctx), req.userId);
    return {};
  };
}
