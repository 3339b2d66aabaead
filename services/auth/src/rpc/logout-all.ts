import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';

export function logoutAll(deps: RpcDeps): Handlers['logoutAll'] {
  return async (req, ctx) => {
    const n = await deps.sessions.logoutAll(requireIdentity(ctx), req.keepCurrentSession, requestMeta(ctx, deps));
    return { revokedSessionCount: n };
  };
}
