import { Code, ConnectError } from '@connectrpc/connect';
import { type Identity, isStaff } from '@hearth/authz';
import { type PageTokens, pageField } from '@hearth/db';
import type { ReactionTally } from '../store/reactions.js';
import type { PostRow } from '../store/schema.js';

export type { ContentState, Visibility } from '../store/schema.js';

/** Who is asking: platform moderators and admins (staff) see what moderation hides. */
export interface Actor {
  readonly userId: string;
  readonly staff: boolean;
}

export function actorOf(identity: Identity): Actor {
  return { userId: identity.userId, staff: isStaff(identity) };
}

/** A post as the caller may see it: its text opened, or emptied where the state says so. */
export interface PostView {
  readonly row: PostRow;
  readonly body: string;
  readonly contentWarning: string;
  readonly html: string;
  /** Whether the caller may see who wrote it (not anonymous, or the author, or staff). */
  readonly authorShown: boolean;
  readonly reactions: ReactionTally;
}

/** The page tokens of the post service's lists. */
export function postPages(tokens: PageTokens) {
  const timeAndId = { t: pageField.time(), id: pageField.id() };
  return {
    circle: tokens.codec('post.circle', timeAndId),
    feed: tokens.codec('post.feed', timeAndId),
    responses: tokens.codec('post.responses', timeAndId),
    user: tokens.codec('post.user', timeAndId),
  };
}

export type PostPages = ReturnType<typeof postPages>;

export function postNotFound(): ConnectError {
  return new ConnectError('post not found', Code.NotFound);
}

