import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage } from './mappers.js';

export function listMyCircles(deps: RpcDeps): Handlers['listMyCircles'] {
  return async (req, ctx) => {
    const page = await deps.circles.listMine(actor(ctx), {
      pageSize: req.pageSize,
      pageToken: req.pageToken,
      includeArchived: req.includeArchived,
    });
    const now = deps.now();
    return { circles: page.circles.map((c) => circleMessage(c, now)), nextPageToken: page.next };
  };
}
