import { requireCaller } from '@hearth/authz';
import { ROLE_FROM_PROTO, STATE_FROM_PROTO } from '../service/model.js';
import { type Handlers, type RpcDeps } from './context.js';
import { profileMessage } from './mappers.js';

export function listUsers(deps: RpcDeps): Handlers['listUsers'] {
  return async (req, ctx) => {
    requireCaller(ctx);
    const state = req.state === undefined ? undefined : STATE_FROM_PROTO[req.state];
    const role = req.role === undefined ? undefined : ROLE_FROM_PROTO[req.role];
    const { profiles, next } = await deps.accounts.listUsers(
      { ...(state ? { state } : {}), ...(role ? { role } : {}), ...(req.handlePrefix ? { handlePrefix: req.handlePrefix } : {}) },
      req.pageSize,
      req.pageToken,
    );
    return { profiles: profiles.map(profileMessage), nextPageToken: next };
  };
}
