import { createContextKey } from '@connectrpc/connect';

/** Platform roles carried in access tokens. Circle roles are resolved per circle, not here. */
export type Role = 'user' | 'moderator' | 'admin';

/**
 * Who is calling, as established by the authentication interceptor from a verified access
 * token. Handlers read the actor from here and never from request fields.
 */
export interface Identity {
  /** The user id (token `sub`). */
  readonly userId: string;
  /** The session the token belongs to (token `sid`), for revocation. */
  readonly sessionId: string;
  readonly roles: readonly Role[];
}

/** Connect context key holding the caller's identity; undefined for anonymous calls. */
export const identityKey = createContextKey<Identity | undefined>(undefined, { description: 'hearth identity' });
