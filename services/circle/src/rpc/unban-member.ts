import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';

export function unbanMember(deps: RpcDeps): Handlers['unbanMember'] {
  return async (req, ctx) => {
    await deps.admin.unban(actor(ctx), req.circleId, req.userId);
    return {};
  };
}
