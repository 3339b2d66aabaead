import { Code, ConnectError } from '@connectrpc/connect';
import { identityKey } from '@hearth/authz';
import { clearedCookies, refreshFromCookies } from '../service/cookies.js';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';

/**
 * Public at the interceptor (see AuthApp.publicMethods) so a client whose access token expired
 * can still end its session with the refresh token; the identity is used when present.
 */
export function logout(deps: RpcDeps): Handlers['logout'] {
  return async (req, ctx) => {
    let token: string | undefined = req.refreshToken || undefined;
    if (!token) {
      const fromCookie = refreshFromCookies(ctx.requestHeader);
      if (fromCookie.kind === 'csrf_failed') throw new ConnectError('missing or invalid CSRF token', Code.Unauthenticated);
      if (fromCookie.kind === 'ok') token = fromCookie.token;
    }
    await deps.sessions.logout(ctx.values.get(identityKey), token, requestMeta(ctx, deps));
    for (const c of clearedCookies()) ctx.responseHeader.append('set-cookie', c);
    return {};
  };
}
