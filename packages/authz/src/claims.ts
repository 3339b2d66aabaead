import type { Role } from './identity.js';

/**
 * The access token contract between the auth service (which signs) and every service (which
 * verifies). A short-lived JWT (about 15 minutes) signed with an asymmetric key whose public
 * half is published in the auth service's JWKS at /.well-known/jwks.json.
 */
export interface AccessTokenClaims {
  /** Issuer: `HEARTH_AUTH_ISSUER`. */
  readonly iss: string;
  /** Audience: `HEARTH_AUTH_AUDIENCE`. */
  readonly aud: string;
  /** The user id. */
  readonly sub: string;
  /** The session id; revoking the session denies every token that carries it. */
  readonly sid: string;
  /** Platform roles at the time of issue (they change at the next refresh). */
  readonly roles: readonly Role[];
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** Unique token id. */
  readonly jti: string;
}

/** Signature algorithms tokens may use. Anything else (none, HS*, RS*) is refused. */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];

/** Cookie names for web clients that use cookie delivery instead of bearer tokens. */
export const ACCESS_COOKIE = '__Host-hearth_access';
export const REFRESH_COOKIE = '__Secure-hearth_refresh';
export const CSRF_COOKIE = '__Host-hearth_csrf';
/** Cookie-authenticated calls must echo the CSRF cookie in this header (double submit). */
export const CSRF_HEADER = 'x-hearth-csrf';

/** Where the auth service publishes the public keys that verify access tokens. */
export const JWKS_PATH = '/.well-known/jwks.json';
