import { requireCaller } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage } from './mappers.js';

export function getProfiles(deps: RpcDeps): Handlers['getProfiles'] {
  return async (req, ctx) => {
    const profiles = await deps.profiles.getProfiles(requireCaller(ctx), req.userIds);
    return { profiles: Object.fromEntries(profiles.map((p) => [p.id, profileMessage(p)])) };
  };
}
