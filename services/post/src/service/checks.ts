import type { DescMessage } from '@bufbuild/protobuf';
import { fieldError, fieldViolation } from '@hearth/authz';

/** What a content check says about a text about to be stored. */
export interface ContentVerdict {
  /** Refuse the write: which field, and the reason the author is shown. */
  readonly blocked?: { readonly field: 'body' | 'contentWarning'; readonly reason: string } | undefined;
  /** Store it, and tell the app to offer crisis resources (CreatePostResponse). */
  readonly crisisSuggested: boolean;
}

export interface ContentInput {
  readonly kind: 'post' | 'response';
  readonly authorId: string;
  readonly circleId: string;
  readonly body: string;
  readonly contentWarning?: string | undefined;
}

/**
 * The hook every post and response write goes through before it is stored. The moderation
 * service's rules plug in here (ModerationService.CheckContent); until they do, the seam
 * accepts everything, and its callers and their handling of a verdict are tested with checks
 * of their own.
 */
export interface ContentChecks {
  check(input: ContentInput): Promise<ContentVerdict>;
}

export const acceptEverything: ContentChecks = {
  async check() {
    return { crisisSuggested: false };
  },
};

/** A blocked verdict as InvalidArgument on the field of `schema` it names (`body`, `contentWarning`). */
export function refuseBlocked(schema: DescMessage, verdict: ContentVerdict): void {
  if (!verdict.blocked) return;
  const field = verdict.blocked.field === 'contentWarning' && schema.fields.some((f) => f.localName === 'contentWarning') ? 'contentWarning' : 'body';
  throw fieldError([fieldViolation(schema, field, 'content.blocked', verdict.blocked.reason)]);
}
