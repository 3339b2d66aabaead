import { requireIdentity } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage, settingsMessage } from './mappers.js';

export function getMe(deps: RpcDeps): Handlers['getMe'] {
  return async (_req, ctx) => {
    const { profile, settings } = await deps.profiles.getMe(requireIdentity(ctx));
    return { profile: profileMessage(profile), settings: settingsMessage(settings) };
  };
}
