import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage } from './mappers.js';

export function previewInvite(deps: RpcDeps): Handlers['previewInvite'] {
  return async (req, ctx) => {
    const { view, expireTime } = await deps.invites.preview(actor(ctx), req.code);
    return { circle: circleMessage(view, deps.now()), inviteExpireTime: timestampFromDate(expireTime) };
  };
}
