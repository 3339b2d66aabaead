import { Code, ConnectError } from '@connectrpc/connect';
import { refreshFromCookies } from '../service/cookies.js';
import type { Handlers, RpcDeps } from './context.js';
import { deliver, requestMeta } from './context.js';

export function refresh(deps: RpcDeps): Handlers['refresh'] {
  return async (req, ctx) => {
    let token = req.refreshToken;
    if (!token) {
      const fromCookie = refreshFromCookies(ctx.requestHeader);
      if (fromCookie.kind === 'csrf_failed') throw new ConnectError('missing or invalid CSRF token', Code.Unauthenticated);
      if (fromCookie.kind === 'none') throw new ConnectError('refresh token required', Code.Unauthenticated);
      token = fromCookie.token;
    }
    const tokens = await deps.sessions.refresh(token, requestMeta(ctx, deps));
    return { tokens: deliver(tokens, req.tokenDelivery, ctx, deps.now()) };
  };
}
