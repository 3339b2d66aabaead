import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';

export function deleteAccount(deps: RpcDeps): Handlers['deleteAccount'] {
  return async (req, ctx) => {
    const purgeAfter = await deps.accounts.deleteAccount(requireIdentity(ctx), req.confirmHandle);
    return { purgeTime: timestampFromDate(purgeAfter) };
  };
}
