import { defineRules, rule } from '@hearth/authz';
import { PostService } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';

/**
 * Who may call each PostService RPC (default deny; see packages/authz rules.ts). RPCs that name
 * a post rather than a circle are open to signed-in users at this gate; the service resolves
 * the post's circle and applies the same membership and block rules.
 */
export const postRules = defineRules(PostService, {
  createPost: rule.circle('circleId', 'member', { moderators: false, note: 'muted members refused by the service' }),
  getPost: rule.signedIn({ note: "visibility of the post's circle and blocks (service check)" }),
  editPost: rule.signedIn({ note: "the author's own post" }),
  deletePost: rule.signedIn({ note: "the author's own post; moderators remove through ModerationService" }),
  listFeed: rule.signedIn({ note: "the caller's circles, blocked authors left out" }),
  listCirclePosts: rule.circle('circleId', 'visible', { moderators: true, note: 'non-members of a public circle see PUBLIC posts only' }),
  listUserPosts: rule.signedIn({ note: 'across a block an empty list, not NotFound (service check), so it reveals neither' }),
  createResponse: rule.signedIn({ note: "membership of the post's circle (service check)" }),
  listResponses: rule.signedIn({ note: 'as GetPost' }),
  editResponse: rule.signedIn({ note: "the author's own response" }),
  deleteResponse: rule.signedIn({ note: "the author's own response" }),
  addReaction: rule.signedIn({ note: "membership of the post's circle (service check)" }),
  removeReaction: rule.signedIn(),
});
