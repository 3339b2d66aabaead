import { requireCaller } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage } from './mappers.js';

export function createUser(deps: RpcDeps): Handlers['createUser'] {
  return async (req, ctx) => {
    requireCaller(ctx);
    const profile = await deps.profiles.createUser({ userId: req.userId, handle: req.handle, displayName: req.displayName });
    return { profile: profileMessage(profile) };
  };
}
