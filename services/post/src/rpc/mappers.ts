import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ContentState, type Post, type PostResponse, PostResponseSchema, PostSchema, PostVisibility, type ReactionKind } from '@hearth/contracts/gen/hearth/post/v1/resources_pb.js';
import type { ResponseView } from '../service/responses.js';
import type { PostView, ContentState as State, Visibility } from '../service/model.js';

export const VISIBILITY_FROM_PROTO: Partial<Record<PostVisibility, Visibility>> = {
  [PostVisibility.MEMBERS]: 'members',
  [PostVisibility.PUBLIC]: 'public',
};

const VISIBILITY: Record<Visibility, PostVisibility> = { members: PostVisibility.MEMBERS, public: PostVisibility.PUBLIC };
const STATE: Record<State, ContentState> = {
  published: ContentState.PUBLISHED,
  hidden: ContentState.HIDDEN,
  removed: ContentState.REMOVED,
  deleted: ContentState.DELETED,
};

export function postMessage(v: PostView): Post {
  const r = v.row;
  return create(PostSchema, {
    id: r.id,
    authorId: v.authorShown ? r.author_id : '',
    circleId: r.circle_id,
    body: v.body,
    bodyHtml: v.html,
    contentWarning: v.contentWarning,
    anonymous: r.anonymous,
    visibility: VISIBILITY[r.visibility],
    state: STATE[r.state],
    reactions: reactionsMessage(v.reactions),
    responseCount: r.response_count,
    createTime: timestampFromDate(r.create_time),
    ...(r.edit_time ? { editTime: timestampFromDate(r.edit_time) } : {}),
    ...(r.delete_time ? { deleteTime: timestampFromDate(r.delete_time) } : {}),
    ...(r.expire_time ? { expireTime: timestampFromDate(r.expire_time) } : {}),
    version: BigInt(r.version),
  });
}

export function responseMessage(v: ResponseView): PostResponse {
  const r = v.row;
  return create(PostResponseSchema, {
    id: r.id,
    postId: r.post_id,
    authorId: v.authorShown ? r.author_id : '',
    body: v.body,
    bodyHtml: v.html,
    anonymous: r.anonymous,
    byPostAuthor: v.byPostAuthor,
    state: STATE[r.state],
    createTime: timestampFromDate(r.create_time),
    ...(r.edit_time ? { editTime: timestampFromDate(r.edit_time) } : {}),
    ...(r.delete_time ? { deleteTime: timestampFromDate(r.delete_time) } : {}),
    version: BigInt(r.version),
  });
}

/** A reactions tally as the API shows it. */
export function reactionsMessage(t: { counts: ReadonlyArray<{ kind: number; count: number }>; mine: readonly number[] }) {
  return { counts: t.counts.map((c) => ({ kind: c.kind as ReactionKind, count: c.count })), mine: t.mine.map((k) => k as ReactionKind) };
}
