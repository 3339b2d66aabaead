import { requireCaller } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';

/** Internal (UserService): the service layer refuses any caller but a Hearth service. */
export function revokeUserSessions(deps: RpcDeps): Handlers['revokeUserSessions'] {
  return async (req, ctx) => {
    const n = await deps.access.revokeUserSessions(requireCaller(ctx), req.userId, requestMeta(ctx, deps));
    return { revokedSessionCount: n };
  };
}
