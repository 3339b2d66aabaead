import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage, visibilityFromProto } from './mappers.js';

export function createCircle(deps: RpcDeps): Handlers['createCircle'] {
  return async (req, ctx) => {
    const view = await deps.circles.create(actor(ctx), {
      name: req.name,
      description: req.description,
      guidelines: req.guidelines,
      visibility: visibilityFromProto(req.visibility),
      memberCap: req.memberCap,
      idempotencyKey: req.idempotencyKey,
    });
    return { circle: circleMessage(view, deps.now()) };
  };
}
