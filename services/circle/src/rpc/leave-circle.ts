import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';

export function leaveCircle(deps: RpcDeps): Handlers['leaveCircle'] {
  return async (req, ctx) => {
    await deps.memberships.leave(actor(ctx), req.circleId);
    return {};
  };
}
