import { Code, ConnectError } from '@connectrpc/connect';
import { timingSafeEqual } from 'node:crypto';
import type { SessionDenyList } from './deny-list.js';
import { AUTH_ERROR, type AuthzLogger, authUnavailable, unauthenticated } from './errors.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

export interface Authenticator {
  readonly verifier: TokenVerifier;
  readonly denyList: SessionDenyList;
}

/**
 * Verifies the token, then checks its session against the deny-list. A deny-list that cannot
 * answer fails closed: Unavailable (see LayeredSessionDenyList for the fallback before that).
 */
export async function authenticateToken(auth: Authenticator, token: string, logger?: AuthzLogger): Promise<VerifiedToken> {
  const verified = await auth.verifier.verify(token);
  let revoked: boolean;
  try {
    revoked = await auth.denyList.isRevoked(verified.identity.sessionId);
  } catch (err) {
    logger?.warn({ err }, 'session deny-list unavailable; refusing the call');
    throw authUnavailable(err);
  }
  if (revoked) {
    logger?.debug({ sessionId: verified.identity.sessionId }, 'access token of a revoked session');
    throw unauthenticated(AUTH_ERROR.revoked);
  }
  return verified;
}

// RFC 6750 b64token; anything else (other schemes, several tokens joined by ", ") is refused.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization: Bearer` header, or undefined when the header is malformed. */
export function bearerToken(authorization: string): string | undefined {
  return BEARER.exec(authorization)?.[1];
}

/**
 * Cookies of a `Cookie` header. The first of two same-named cookies wins, as in browsers'
 * ordering (longest path first); `__Host-` names cannot be planted by other subdomains anyway.
 */
export function parseCookies(header: string | null | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  if (!header) return jar;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name && !jar.has(name)) jar.set(name, value);
  }
  return jar;
}

/** Double-submit check: the header must equal the CSRF cookie (compared in constant time). */
export function csrfMatches(cookie: string | undefined, header: string | null | undefined): boolean {
  if (!cookie || !header) return false;
  const a = Buffer.from(cookie, 'utf8');
  const b = Buffer.from(header, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether an error is a verdict on the credential (so a public method may ignore it). */
export function isCredentialRefusal(err: unknown): boolean {
  return err instanceof ConnectError && (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied);
}
