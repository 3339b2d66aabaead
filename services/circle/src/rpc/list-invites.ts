import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { inviteMessage } from './mappers.js';

export function listInvites(deps: RpcDeps): Handlers['listInvites'] {
  return async (req, ctx) => {
    const page = await deps.invites.list(actor(ctx), { circleId: req.circleId, pageSize: req.pageSize, pageToken: req.pageToken });
    return { invites: page.invites.map(inviteMessage), nextPageToken: page.next };
  };
}
