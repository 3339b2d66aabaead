import type { Handlers, RpcDeps } from './context.js';
import { deliver, requestMeta } from './context.js';
import { providerName } from './mappers.js';

export function finishOAuth(deps: RpcDeps): Handlers['finishOAuth'] {
  return async (req, ctx) => {
    const { tokens, accountCreated } = await deps.oauth.finish(
      {
        provider: providerName(req.provider),
        code: req.code,
        state: req.state,
        redirectUri: req.redirectUri,
        codeVerifier: req.codeVerifier,
        deviceName: req.deviceName,
      },
      requestMeta(ctx, deps),
    );
    return { tokens: deliver(tokens, req.tokenDelivery, ctx, deps.now()), accountCreated };
  };
}
