import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { requireCaller } from '@hearth/authz';
import { MEMBERSHIP_MAX_AGE_MS, USER_CIRCLE_IDS_MAX } from '../service/memberships.js';
import type { Handlers, RpcDeps } from './context.js';

export function listUserCircleIds(deps: RpcDeps): Handlers['listUserCircleIds'] {
  return async (req, ctx) => {
    const { circleIds, truncated } = await deps.memberships.circleIds(requireCaller(ctx), req.userId, USER_CIRCLE_IDS_MAX);
    return { circleIds, truncated, maxAge: durationFromMs(MEMBERSHIP_MAX_AGE_MS) };
  };
}
