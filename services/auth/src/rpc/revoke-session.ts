import { requireIdentity } from '@hearth/authz';
import { clearedCookies } from '../service/cookies.js';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';

export function revokeSession(deps: RpcDeps): Handlers['revokeSession'] {
  return async (req, ctx) => {
    const { current } = await deps.sessions.revokeSession(requireIdentity(ctx), req.sessionId, requestMeta(ctx, deps));
    // Revoking the current session is Logout: a browser's cookies go too.
    if (current) for (const c of clearedCookies()) ctx.responseHeader.append('set-cookie', c);
    return {};
  };
}
