import { Code, ConnectError } from '@connectrpc/connect';
import { requireCaller } from '@hearth/authz';
import { STATE_FROM_PROTO } from '../service/model.js';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage, versionOf } from './mappers.js';

export function setAccountState(deps: RpcDeps): Handlers['setAccountState'] {
  return async (req, ctx) => {
    const state = STATE_FROM_PROTO[req.state];
    // protovalidate admits only ACTIVE and SUSPENDED; this keeps DELETED out if that rule ever changes.
    if (state !== 'active' && state !== 'suspended') throw new ConnectError('state must be ACTIVE or SUSPENDED', Code.InvalidArgument);
    const profile = await deps.accounts.setAccountState(requireCaller(ctx), {
      userId: req.userId,
      state,
      version: versionOf(req.version),
      reason: req.reason,
    });
    return { profile: profileMessage(profile) };
  };
}
