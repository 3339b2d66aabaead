import { requireCaller } from '@hearth/authz';
import { CHECK_BLOCKS_MAX_AGE_SEC } from '../service/blocks.js';
import type { Handlers, RpcDeps } from './context.js';

export function checkBlocks(deps: RpcDeps): Handlers['checkBlocks'] {
  return async (req, ctx) => {
    requireCaller(ctx);
    const blocked = await deps.blocks.check(req.userId, req.otherUserIds);
    return {
      blockedUserIds: req.otherUserIds.filter((id) => blocked.has(id)),
      maxAge: { seconds: BigInt(CHECK_BLOCKS_MAX_AGE_SEC) },
    };
  };
}
