import { requireCaller } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';

/** Internal (UserService, when an account is deleted); the service refuses any other caller. */
export function removeUserFromCircles(deps: RpcDeps): Handlers['removeUserFromCircles'] {
  return async (req, ctx) => {
    return deps.removal.removeUser(requireCaller(ctx), req.userId);
  };
}
