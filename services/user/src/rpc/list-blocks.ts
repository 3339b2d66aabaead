import { requireIdentity } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { blockedMessage } from './mappers.js';

export function listBlocks(deps: RpcDeps): Handlers['listBlocks'] {
  return async (req, ctx) => {
    const { blocks, next } = await deps.blocks.list(requireIdentity(ctx), req.pageSize, req.pageToken);
    return { blocks: blocks.map(blockedMessage), nextPageToken: next };
  };
}
