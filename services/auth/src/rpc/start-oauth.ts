import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { identityKey } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';
import { intentName, providerName } from './mappers.js';

/** Public (SIGN_IN needs no session); a LINK flow takes its user from the access token, when one was sent. */
export function startOAuth(deps: RpcDeps): Handlers['startOAuth'] {
  return async (req, ctx) => {
    const flow = await deps.oauth.start(
      ctx.values.get(identityKey),
      { provider: providerName(req.provider), intent: intentName(req.intent), redirectUri: req.redirectUri, codeChallenge: req.codeChallenge },
      requestMeta(ctx, deps),
    );
    return { authorizationUrl: flow.authorizationUrl, state: flow.state, expireTime: timestampFromDate(flow.expiresAt) };
  };
}
