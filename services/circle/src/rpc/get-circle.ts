import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage } from './mappers.js';

export function getCircle(deps: RpcDeps): Handlers['getCircle'] {
  return async (req, ctx) => {
    const view = await deps.circles.get(actor(ctx), req.circleId);
    return { circle: circleMessage(view, deps.now()) };
  };
}
