import { requireCaller } from '@hearth/authz';
import { ROLE_FROM_PROTO } from '../service/model.js';
import type { RoleName } from '../service/model.js';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage, versionOf } from './mappers.js';

export function setUserRoles(deps: RpcDeps): Handlers['setUserRoles'] {
  return async (req, ctx) => {
    const roles = req.roles.map((r) => ROLE_FROM_PROTO[r]).filter((r): r is RoleName => r !== undefined);
    const profile = await deps.accounts.setUserRoles(requireCaller(ctx), {
      userId: req.userId,
      roles,
      version: versionOf(req.version),
      reason: req.reason,
    });
    return { profile: profileMessage(profile) };
  };
}
