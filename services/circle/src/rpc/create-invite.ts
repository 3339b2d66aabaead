import { durationMs } from '@bufbuild/protobuf/wkt';
import type { Handlers, RpcDeps } from './context.js';
import { actor } from './context.js';
import { inviteMessage } from './mappers.js';

export function createInvite(deps: RpcDeps): Handlers['createInvite'] {
  return async (req, ctx) => {
    const invite = await deps.invites.create(actor(ctx), {
      circleId: req.circleId,
      ttlMs: req.ttl ? durationMs(req.ttl) : undefined,
      maxUses: req.maxUses,
      idempotencyKey: req.idempotencyKey,
    });
    return { invite: inviteMessage(invite) };
  };
}
