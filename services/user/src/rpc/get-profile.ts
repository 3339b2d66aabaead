import { Code, ConnectError } from '@connectrpc/connect';
import { requireCaller } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage } from './mappers.js';

export function getProfile(deps: RpcDeps): Handlers['getProfile'] {
  return async (req, ctx) => {
    const caller = requireCaller(ctx);
    const { lookup } = req;
    if (lookup.case === undefined) throw new ConnectError('set user_id or handle', Code.InvalidArgument);
    const profile = await deps.profiles.getProfile(caller, lookup.case === 'userId' ? { userId: lookup.value } : { handle: lookup.value });
    return { profile: profileMessage(profile) };
  };
}
