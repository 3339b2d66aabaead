import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { memberMessage, roleFromProto } from './mappers.js';

export function setMemberRole(deps: RpcDeps): Handlers['setMemberRole'] {
  return async (req, ctx) => {
    const member = await deps.admin.setRole(actor(ctx), {
      circleId: req.circleId,
      userId: req.userId,
      role: roleFromProto(req.role),
      version: req.version,
    });
    // Only the owner and staff get here, and both may see mutes.
    return { member: memberMessage({ member, showMute: true }, deps.now()) };
  };
}
