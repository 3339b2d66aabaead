import type { IncomingHttpHeaders } from 'node:http';
import { ACCESS_COOKIE } from './claims.js';
import { authenticateToken, parseCookies } from './credentials.js';
import type { SessionDenyList } from './deny-list.js';
import { AUTH_ERROR, type AuthzLogger, permissionDenied, unauthenticated } from './errors.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

export interface UpgradeAuthOptions {
  readonly verifier: TokenVerifier;
  readonly denyList: SessionDenyList;
  /** Origins (e.g. "https://app.hearth.example") whose pages may open a cookie-authenticated socket. */
  readonly allowedOrigins: readonly string[];
  readonly logger?: AuthzLogger;
}

export interface UpgradeCredentials {
  /** The `access_token` of the client's Hello frame, if it sent one. */
  readonly accessToken?: string | undefined;
  /** Headers of the HTTP upgrade request. */
  /** The upgrade request's headers, or just the two read here. */
  readonly headers: Pick<IncomingHttpHeaders, 'cookie' | 'origin'>;
}

/**
 * Authenticates a realtime socket: the Hello frame's token, else the access cookie of the
 * upgrade request. Browsers send cookies on cross-site WebSocket handshakes and WebSockets have
 * no CORS, so with a cookie the Origin must be one of ours: the WebSocket form of CSRF
 * protection. A token in the Hello frame is not ambient, so it needs no Origin check.
 * Throws ConnectError: Unauthenticated (no, bad, expired or revoked token), PermissionDenied
 * (cookie from a foreign origin), Unavailable (JWKS or deny-list down).
 */
export async function authenticateUpgrade(opts: UpgradeAuthOptions, input: UpgradeCredentials): Promise<VerifiedToken> {
  if (input.accessToken) return authenticateToken(opts, input.accessToken, opts.logger);
  const token = parseCookies(input.headers.cookie).get(ACCESS_COOKIE);
  if (token === undefined) throw unauthenticated(AUTH_ERROR.required);
  const origin = input.headers.origin;
  if (origin === undefined || !allowedOrigin(origin, opts.allowedOrigins)) {
    opts.logger?.debug({ origin }, 'cookie-authenticated socket from a foreign origin refused');
    throw permissionDenied(AUTH_ERROR.origin);
  }
  return authenticateToken(opts, token, opts.logger);
}

// Configured origins are normalised ("https://App.Example:443/" is "https://app.example"); the
// header is compared as sent, since browsers send the serialised origin.
function allowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => {
    try {
      return new URL(a).origin === origin;
    } catch {
      return false;
    }
  });
}
