import type { HandlerContext, Interceptor } from '@connectrpc/connect';
import { requestContextKey } from '@hearth/telemetry';
import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER } from './claims.js';
import { authenticateToken, bearerToken, csrfMatches, isCredentialRefusal, parseCookies } from './credentials.js';
import type { SessionDenyList } from './deny-list.js';
import { AUTH_ERROR, type AuthzLogger, permissionDenied, unauthenticated } from './errors.js';
import { type Identity, identityKey } from './identity.js';
import { SERVICE_TOKEN_HEADER, type ServiceTokens, serviceIdentityKey } from './service-token.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

export interface AuthenticationOptions {
  readonly verifier: TokenVerifier;
  readonly denyList: SessionDenyList;
  /** Whether anonymous callers may use the method (service typeName, method name, e.g. "Login"). */
  readonly isPublic: (service: string, method: string) => boolean;
  /** Accept the access token from the `__Host-hearth_access` cookie (with CSRF check). Default true. */
  readonly cookies?: boolean;
  /** Used when the telemetry interceptor did not run before this one (its logger is preferred). */
  readonly logger?: AuthzLogger;
  /**
   * Verifies the `x-hearth-service-token` header other Hearth services call with. Without it,
   * a service token is refused like any bad credential.
   */
  readonly serviceTokens?: ServiceTokens;
}

/**
 * The authentication step of every Hearth server (after telemetry, before rate limits).
 *
 * - `Authorization: Bearer <jwt>`: verified and checked against the deny-list; any failure is
 *   Unauthenticated, on public methods too (a client that sends a token expects it to count).
 * - Otherwise the `__Host-hearth_access` cookie, which browsers attach on their own, so it
 *   counts only with an `x-hearth-csrf` header equal to the `__Host-hearth_csrf` cookie
 *   (double submit; PermissionDenied without it). On PUBLIC methods an unusable cookie (stale,
 *   revoked, no CSRF header) is ignored and the call proceeds anonymously: the app cannot remove
 *   an HttpOnly cookie, and refusing would lock a signed-out browser out of Login and Refresh.
 * - `x-hearth-service-token`: another Hearth service (internal RPCs); it carries no user, and
 *   a bad one is Unauthenticated. A call never has both kinds of credential.
 * - No credential: public methods run anonymously, the rest fail with Unauthenticated.
 *
 * On success the identity is on `identityKey`, and the telemetry RequestContext gets the actor.
 */
export function authenticationInterceptor(opts: AuthenticationOptions): Interceptor {
  const cookies = opts.cookies ?? true;
  return (next) => async (req) => {
    const isPublic = opts.isPublic(req.service.typeName, req.method.name);
    const rc = req.contextValues.get(requestContextKey);
    // The request's logger is made on first use; take it only when there is a line to write.
    const log = () => rc?.logger ?? opts.logger;
    const lazy: AuthzLogger = { debug: (o, m) => log()?.debug(o, m), warn: (o, m) => log()?.warn(o, m) };
    let verified: VerifiedToken | undefined;

    const serviceToken = req.header.get(SERVICE_TOKEN_HEADER);
    if (serviceToken !== null) {
      const service = opts.serviceTokens ? await opts.serviceTokens.verify(serviceToken) : undefined;
      if (!service || req.header.has('authorization')) {
        log()?.debug({}, 'invalid service token');
        throw unauthenticated(AUTH_ERROR.invalid);
      }
      req.contextValues.set(serviceIdentityKey, service);
      rc?.setActor(`service:${service.service}`);
      return next(req);
    }

    const authorization = req.header.get('authorization');
    if (authorization !== null) {
      const token = bearerToken(authorization);
      if (token === undefined) {
        log()?.debug({}, 'malformed Authorization header');
        throw unauthenticated(AUTH_ERROR.invalid);
      }
      verified = await authenticateToken(opts, token, lazy);
    } else if (cookies) {
      const jar = parseCookies(req.header.get('cookie'));
      const token = jar.get(ACCESS_COOKIE);
      if (token !== undefined) {
        try {
          // Before verifying: a forged cross-site request learns nothing about the token.
          if (!csrfMatches(jar.get(CSRF_COOKIE), req.header.get(CSRF_HEADER))) throw permissionDenied(AUTH_ERROR.csrf);
          verified = await authenticateToken(opts, token, lazy);
        } catch (err) {
          if (!isPublic || !isCredentialRefusal(err)) throw err;
          log()?.debug({ reason: (err as Error).message }, 'unusable access cookie ignored on a public method');
        }
      }
    }

    if (verified === undefined) {
      if (isPublic) return next(req);
      throw unauthenticated(AUTH_ERROR.required);
    }
    const { identity } = verified;
    req.contextValues.set(identityKey, identity);
    rc?.setActor(identity.userId);
    return next(req);
  };
}

/** The caller's identity in a handler of a non-public method; Unauthenticated when anonymous. */
export function requireIdentity(ctx: HandlerContext): Identity {
  const identity = ctx.values.get(identityKey);
  if (!identity) throw unauthenticated(AUTH_ERROR.required);
  return identity;
}
