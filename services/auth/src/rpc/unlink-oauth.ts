import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';
import { requestMeta } from './context.js';
import { providerName } from './mappers.js';

export function unlinkOAuth(deps: RpcDeps): Handlers['unlinkOAuth'] {
  return async (req, ctx) => {
    await deps.oauth.unlink(requireIdentity(ctx), providerName(req.provider), requestMeta(ctx, deps));
    return {};
  };
}
