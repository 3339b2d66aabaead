import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage, visibilityFromProto } from './mappers.js';

export function updateCircle(deps: RpcDeps): Handlers['updateCircle'] {
  return async (req, ctx) => {
    const view = await deps.circles.update(actor(ctx), {
      circleId: req.circleId,
      version: req.version,
      ...(req.name !== undefined ? { name: req.name } : {}),
      ...(req.description !== undefined ? { description: req.description } : {}),
      ...(req.guidelines !== undefined ? { guidelines: req.guidelines } : {}),
      ...(req.visibility !== undefined ? { visibility: visibilityFromProto(req.visibility) } : {}),
      ...(req.memberCap !== undefined ? { memberCap: req.memberCap } : {}),
    });
    return { circle: circleMessage(view, deps.now()) };
  };
}
