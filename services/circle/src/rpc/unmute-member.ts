import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { memberMessage } from './mappers.js';

export function unmuteMember(deps: RpcDeps): Handlers['unmuteMember'] {
  return async (req, ctx) => {
    const member = await deps.admin.unmute(actor(ctx), req.circleId, req.userId);
    return { member: memberMessage({ member, showMute: true }, deps.now()) };
  };
}
