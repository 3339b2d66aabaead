import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { banMessage } from './mappers.js';

export function listBans(deps: RpcDeps): Handlers['listBans'] {
  return async (req, ctx) => {
    const page = await deps.admin.listBans(actor(ctx), { circleId: req.circleId, pageSize: req.pageSize, pageToken: req.pageToken });
    return { bans: page.bans.map(banMessage), nextPageToken: page.next };
  };
}
