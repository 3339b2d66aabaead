import { requireCaller } from '@hearth/authz';
import { roleNames, stateName } from './mappers.js';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';

/** Internal (UserService): the service layer refuses any caller but a Hearth service. */
export function setAccountAccess(deps: RpcDeps): Handlers['setAccountAccess'] {
  return async (req, ctx) => {
    const caller = requireCaller(ctx);
    const n = await deps.access.setAccountAccess(
      caller,
      { userId: req.userId, roles: roleNames(req.roles), state: stateName(req.state) },
      requestMeta(ctx, deps),
    );
    return { revokedSessionCount: n };
  };
}
