import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage } from './mappers.js';

export function archiveCircle(deps: RpcDeps): Handlers['archiveCircle'] {
  return async (req, ctx) => {
    const view = await deps.circles.archive(actor(ctx), req.circleId, req.version);
    return { circle: circleMessage(view, deps.now()) };
  };
}
