import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { inviteMessage } from './mappers.js';

export function revokeInvite(deps: RpcDeps): Handlers['revokeInvite'] {
  return async (req, ctx) => {
    const invite = await deps.invites.revoke(actor(ctx), req.circleId, req.code);
    return { invite: inviteMessage(invite) };
  };
}
