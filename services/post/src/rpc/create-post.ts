import { timestampDate } from '@bufbuild/protobuf/wkt';
import { type Handlers, type RpcDeps, actor } from './context.js';
import { VISIBILITY_FROM_PROTO, postMessage } from './mappers.js';

export function createPost(deps: RpcDeps): Handlers['createPost'] {
  return async (req, ctx) => {
    const { view, crisisSuggested } = await deps.posts.create(actor(ctx), {
      idempotencyKey: req.idempotencyKey,
      circleId: req.circleId,
      body: req.body,
      contentWarning: req.contentWarning,
      anonymous: req.anonymous,
      // The request's rules admit only defined, non-zero visibilities.
      visibility: VISIBILITY_FROM_PROTO[req.visibility] ?? 'members',
      ...(req.expireTime ? { expireTime: timestampDate(req.expireTime) } : {}),
    });
    return { post: postMessage(view), crisisResourcesSuggested: crisisSuggested };
  };
}
