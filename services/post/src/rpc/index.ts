import type { ConnectRouter } from '@connectrpc/connect';
import { PostService } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';
import type { RpcDeps } from './context.js';
import { addReaction } from './add-reaction.js';
import { createPost } from './create-post.js';
import { createResponse } from './create-response.js';
import { deleteResponse } from './delete-response.js';
import { editResponse } from './edit-response.js';
import { listResponses } from './list-responses.js';
import { removeReaction } from './remove-reaction.js';
import { deletePost } from './delete-post.js';
import { editPost } from './edit-post.js';
import { getPost } from './get-post.js';
import { listCirclePosts } from './list-circle-posts.js';
import { listFeed } from './list-feed.js';
import { listUserPosts } from './list-user-posts.js';

export type { RpcDeps } from './context.js';

/**
 * The PostService handlers, one file per RPC. Who may call each one is decided before they run
 * by the rule table in rules.ts. RPCs not listed here are answered with Code.Unimplemented by
 * Connect until the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter, deps: RpcDeps): void {
  router.service(PostService, {
    createPost: createPost(deps),
    getPost: getPost(deps),
    editPost: editPost(deps),
    deletePost: deletePost(deps),
    listFeed: listFeed(deps),
    listCirclePosts: listCirclePosts(deps),
    listUserPosts: listUserPosts(deps),
    createResponse: createResponse(deps),
    listResponses: listResponses(deps),
    editResponse: editResponse(deps),
    deleteResponse: deleteResponse(deps),
    addReaction: addReaction(deps),
    removeReaction: removeReaction(deps),
  });
}
