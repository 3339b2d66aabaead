import { requireCaller } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';

export function checkPresenceSharing(deps: RpcDeps): Handlers['checkPresenceSharing'] {
  return async (req, ctx) => {
    requireCaller(ctx);
    const sharing = await deps.profiles.presenceSharing(req.userIds);
    return { sharingUserIds: req.userIds.filter((id) => sharing.has(id)) };
  };
}
