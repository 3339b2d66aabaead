import { durationMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { memberMessage } from './mappers.js';

export function muteMember(deps: RpcDeps): Handlers['muteMember'] {
  return async (req, ctx) => {
    // protovalidate requires the duration; this only satisfies the type checker.
    if (!req.duration) throw new ConnectError('duration is required', Code.InvalidArgument);
    const member = await deps.admin.mute(actor(ctx), {
      circleId: req.circleId,
      userId: req.userId,
      durationMs: durationMs(req.duration),
      reason: req.reason,
    });
    return { member: memberMessage({ member, showMute: true }, deps.now()) };
  };
}
