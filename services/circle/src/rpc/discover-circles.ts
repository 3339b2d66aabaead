import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage } from './mappers.js';

export function discoverCircles(deps: RpcDeps): Handlers['discoverCircles'] {
  return async (req, ctx) => {
    const page = await deps.circles.discover(actor(ctx), { query: req.query, pageSize: req.pageSize, pageToken: req.pageToken });
    const now = deps.now();
    return { circles: page.circles.map((c) => circleMessage(c, now)), nextPageToken: page.next };
  };
}
