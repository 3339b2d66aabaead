import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';

export function removeMember(deps: RpcDeps): Handlers['removeMember'] {
  return async (req, ctx) => {
    await deps.admin.remove(actor(ctx), { circleId: req.circleId, userId: req.userId, ban: req.ban, reason: req.reason });
    return {};
  };
}
