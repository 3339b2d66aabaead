import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';

export function changePassword(deps: RpcDeps): Handlers['changePassword'] {
  return async (req, ctx) => {
    const n = await deps.auth.changePassword(
      requireIdentity(ctx),
      { currentPassword: req.currentPassword, newPassword: req.newPassword },
      requestMeta(ctx, deps),
    );
    return { revokedSessionCount: n };
  };
}
