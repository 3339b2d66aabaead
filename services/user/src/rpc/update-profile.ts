import { requireIdentity } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage, versionOf } from './mappers.js';

export function updateProfile(deps: RpcDeps): Handlers['updateProfile'] {
  return async (req, ctx) => {
    const profile = await deps.profiles.updateProfile(requireIdentity(ctx), {
      version: versionOf(req.version),
      handle: req.handle,
      displayName: req.displayName,
      bio: req.bio,
      pronouns: req.pronouns,
      avatarUrl: req.avatarUrl,
    });
    return { profile: profileMessage(profile) };
  };
}
