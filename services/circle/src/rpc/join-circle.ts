import { Code, ConnectError } from '@connectrpc/connect';
import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { circleMessage, ownMember } from './mappers.js';

export function joinCircle(deps: RpcDeps): Handlers['joinCircle'] {
  return async (req, ctx) => {
    const t = req.target;
    // protovalidate requires the oneof; this only satisfies the type checker.
    if (t.case === undefined) throw new ConnectError('circle_id or invite_code is required', Code.InvalidArgument);
    const view = await deps.memberships.join(actor(ctx), t.case === 'circleId' ? { circleId: t.value } : { inviteCode: t.value });
    const now = deps.now();
    return { circle: circleMessage(view, now), ...(view.me ? { member: ownMember(view.me, now) } : {}) };
  };
}
