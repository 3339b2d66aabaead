/**
 * Sessions whose access tokens must stop working everywhere at once (logout, revocation,
 * reuse detection, suspension). The auth service writes; every service's authentication
 * interceptor reads on every call. An entry lives until the last token of the session has
 * expired, then may vanish.
 */
export interface SessionDenyList {
  /** Denies every token of the session until `until` (the latest expiry of its tokens). */
  revoke(sessionId: string, until: Date): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}

/**
 * Entries outlive the token expiry they were given by this much: verifiers accept tokens up to
 * their clock tolerance past `exp`, and the auth service's clock may run behind a verifier's.
 */
export const DENY_LIST_GRACE_MS = 60_000;

export interface DenyEntry {
  readonly sessionId: string;
  readonly until: Date;
}
