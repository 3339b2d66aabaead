import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { requireCaller } from '@hearth/authz';
import { MEMBERSHIP_MAX_AGE_MS } from '../service/memberships.js';
import type { Handlers, RpcDeps } from './context.js';
import { membershipMessage } from './mappers.js';

/** Internal (the authorization layer of other processes), or a user asking about themself. */
export function getMembership(deps: RpcDeps): Handlers['getMembership'] {
  return async (req, ctx) => {
    const standing = await deps.memberships.get(requireCaller(ctx), req.circleId, req.userId);
    return { membership: membershipMessage(standing), maxAge: durationFromMs(MEMBERSHIP_MAX_AGE_MS) };
  };
}
