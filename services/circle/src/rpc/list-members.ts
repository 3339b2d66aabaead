import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { memberMessage, roleFromProto } from './mappers.js';

export function listMembers(deps: RpcDeps): Handlers['listMembers'] {
  return async (req, ctx) => {
    const page = await deps.admin.list(actor(ctx), {
      circleId: req.circleId,
      role: req.role === undefined ? undefined : roleFromProto(req.role),
      pageSize: req.pageSize,
      pageToken: req.pageToken,
    });
    const now = deps.now();
    return { members: page.members.map((m) => memberMessage(m, now)), nextPageToken: page.next };
  };
}
