import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';
import { linkedIdentity, providerName } from './mappers.js';

export function linkOAuth(deps: RpcDeps): Handlers['linkOAuth'] {
  return async (req, ctx) => {
    const row = await deps.oauth.link(
      requireIdentity(ctx),
      { provider: providerName(req.provider), code: req.code, state: req.state, redirectUri: req.redirectUri, codeVerifier: req.codeVerifier },
      requestMeta(ctx, deps),
    );
    return { identity: linkedIdentity(row) };
  };
}
