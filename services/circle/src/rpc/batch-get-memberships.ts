import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { requireCaller } from '@hearth/authz';
import { MEMBERSHIP_MAX_AGE_MS } from '../service/memberships.js';
import type { Handlers, RpcDeps } from './context.js';
import { membershipMessage } from './mappers.js';

export function batchGetMemberships(deps: RpcDeps): Handlers['batchGetMemberships'] {
  return async (req, ctx) => {
    const standings = await deps.memberships.getMany(requireCaller(ctx), req.userId, req.circleIds);
    return { memberships: standings.map(membershipMessage), maxAge: durationFromMs(MEMBERSHIP_MAX_AGE_MS) };
  };
}
