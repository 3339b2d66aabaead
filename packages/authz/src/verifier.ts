import type { ConnectError } from '@connectrpc/connect';
import {
  type FetchImplementation,
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTPayload,
  type RemoteJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { ACCESS_TOKEN_ALGORITHMS, type AccessTokenClaims } from './claims.js';
import { AUTH_ERROR, type AuthzLogger, authUnavailable, unauthenticated } from './errors.js';
import type { Identity, Role } from './identity.js';

export interface TokenVerifierOptions {
  /**
   * The auth service's JWKS. A function is called once, on the first verification: in monolith
   * mode the server's own port is known only after it listens.
   */
  readonly jwksUrl: URL | (() => URL);
  readonly issuer: string;
  readonly audience: string;
  /** Allowed clock skew for exp and nbf. Default 5. */
  readonly clockToleranceSec?: number;
  /** Timeout of one JWKS request. Default 2000. */
  readonly fetchTimeoutMs?: number;
  /**
   * After a successful JWKS fetch, a token with an unknown kid triggers another fetch only once
   * this much time has passed, so a stream of made-up kids cannot hammer the auth service.
   * Default 30000.
   */
  readonly cooldownMs?: number;
  /**
   * Keys are refetched when older than this, which is also the longest a key removed from the
   * JWKS (e.g. a compromised one) is still trusted. Default 600000 (10 min).
   */
  readonly cacheMaxAgeMs?: number;
  /** After a failed JWKS fetch, no new fetch is tried for this long. Default 1000. */
  readonly failureBackoffMs?: number;
  /** Why a token was refused goes here (debug), never to the client. */
  readonly logger?: AuthzLogger;
  /** Verified tokens remembered, so a token's signature is checked once, not on every call. Default 20000. */
  readonly cacheSize?: number;
  readonly now?: () => number;
}

export interface VerifiedToken {
  readonly identity: Identity;
  readonly claims: AccessTokenClaims;
  readonly expiresAt: Date;
}

export interface TokenVerifier {
  /**
   * Verifies signature (EdDSA or ES256 only), iss, aud, exp, nbf and the claim shapes. Throws
   * ConnectError Unauthenticated ("token expired" or a generic message), or Unavailable when
   * the JWKS cannot be fetched.
   */
  verify(token: string): Promise<VerifiedToken>;
}

const ROLES: ReadonlySet<string> = new Set<Role>(['user', 'moderator', 'admin']);
// Lower case only: session ids are deny-list keys, and one id must not have two spellings.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Our tokens are a few hundred bytes; refusing huge ones before parsing costs nothing.
const MAX_TOKEN_LENGTH = 8_192;
const REQUIRED_CLAIMS = ['sub', 'sid', 'exp', 'nbf', 'iat', 'jti'];

/** The JWKS could not be fetched or read: our outage, not a bad token. */
class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
}

/** A claim is present and signed but has the wrong shape. */
class MalformedClaims extends Error {
  override readonly name = 'MalformedClaims';
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const clockTolerance = opts.clockToleranceSec ?? 5;
  const now = opts.now ?? Date.now;
  // A token is a few hundred bytes; 20,000 of them are a few MB. Only tokens that verified are
  // kept, so made-up tokens cannot fill it, and each one is dropped once it has expired.
  const verified = new LRUCache<string, VerifiedToken>({ max: opts.cacheSize ?? 20_000 });
  const failureBackoffMs = opts.failureBackoffMs ?? 1_000;
  let jwks: RemoteJWKSet | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;

  // jose sets a cooldown only after a successful fetch; while the auth service is down every
  // verification would fetch again. This keeps failed fetches to one per failureBackoffMs.
  const fetchWithBackoff: FetchImplementation = async (url, init) => {
    if (Date.now() - failedAt < failureBackoffMs) throw new KeySetUnavailable('JWKS fetch failed recently; backing off');
    try {
      const res = await fetch(url, init);
      if (res.status !== 200) failedAt = Date.now();
      return res;
    } catch (err) {
      failedAt = Date.now();
      throw err;
    }
  };

  const keySet = (): RemoteJWKSet => {
    if (!jwks) {
      const url = typeof opts.jwksUrl === 'function' ? opts.jwksUrl() : opts.jwksUrl;
      jwks = createRemoteJWKSet(url, {
        timeoutDuration: opts.fetchTimeoutMs ?? 2_000,
        cooldownDuration: opts.cooldownMs ?? 30_000,
        cacheMaxAge: opts.cacheMaxAgeMs ?? 600_000,
        [customFetch]: fetchWithBackoff,
      });
    }
    return jwks;
  };

  const getKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    let resolve: RemoteJWKSet;
    try {
      resolve = keySet();
    } catch (err) {
      throw new KeySetUnavailable('JWKS URL is not known yet', { cause: err });
    }
    try {
      return await resolve(header, token);
    } catch (err) {
      // No key (or no single key) for the token's kid/alg, or an alg a key set cannot hold, is
      // the token's fault; anything else (network, timeout, non-200, unparsable set) is ours.
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys ||
        err instanceof errors.JOSENotSupported
      ) {
        throw err;
      }
      throw new KeySetUnavailable('JWKS fetch failed', { cause: err });
    }
  };

  return {
    async verify(token) {
      // Verified once: the signature, issuer, audience and claim shapes of a token never change,
      // so a repeat only needs the clock checks. Revocation is the deny-list's job, per call.
      const hit = verified.get(token);
      if (hit) {
        const nowSec = now() / 1000;
        if (nowSec > hit.claims.exp + clockTolerance) {
          verified.delete(token);
          throw unauthenticated(AUTH_ERROR.expired);
        }
        if (nowSec + clockTolerance >= hit.claims.nbf) return hit;
      }
      try {
        if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new MalformedClaims('empty or oversized token');
        const { payload } = await jwtVerify(token, getKey, {
          algorithms: [...ACCESS_TOKEN_ALGORITHMS],
          issuer: opts.issuer,
          audience: opts.audience,
          requiredClaims: REQUIRED_CLAIMS,
          clockTolerance,
          currentDate: new Date(now()),
        });
        const claims = toClaims(payload, opts.audience, opts.logger);
        const result: VerifiedToken = {
          claims,
          identity: { userId: claims.sub, sessionId: claims.sid, roles: claims.roles },
          expiresAt: new Date(claims.exp * 1000),
        };
        verified.set(token, result);
        return result;
      } catch (err) {
        throw refusal(err, opts.logger);
      }
    },
  };
}

function refusal(err: unknown, logger: AuthzLogger | undefined): ConnectError {
  if (err instanceof KeySetUnavailable) {
    logger?.warn({ err }, 'access token not verified: JWKS unavailable');
    return authUnavailable(err);
  }
  if (!(err instanceof errors.JOSEError) && !(err instanceof MalformedClaims)) {
    // Not a verdict on the token: a bug or an unexpected failure. Still refused, but loudly.
    logger?.warn({ err }, 'access token verification failed unexpectedly');
    return unauthenticated(AUTH_ERROR.invalid);
  }
  logger?.debug({ reason: err.message, code: 'code' in err ? err.code : err.name }, 'access token refused');
  return unauthenticated(err instanceof errors.JWTExpired ? AUTH_ERROR.expired : AUTH_ERROR.invalid);
}

/**
 * Signed is not the same as well formed: the shapes are checked here so the rest of the system
 * can trust Identity. Unknown roles are dropped rather than refused: a role the auth service
 * starts issuing before every verifier knows it must not lock its holders out, and dropping
 * grants less, never more.
 */
function toClaims(payload: JWTPayload, audience: string, logger: AuthzLogger | undefined): AccessTokenClaims {
  const { iss, sub, sid, roles, jti, iat, nbf, exp } = payload;
  if (typeof sub !== 'string' || !UUID.test(sub)) throw new MalformedClaims('sub is not a UUID');
  if (typeof sid !== 'string' || !UUID.test(sid)) throw new MalformedClaims('sid is not a UUID');
  if (typeof jti !== 'string' || jti.length === 0) throw new MalformedClaims('jti is not a non-empty string');
  if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string')) {
    throw new MalformedClaims('roles is not an array of strings');
  }
  const known = [...new Set(roles.filter((r): r is Role => ROLES.has(r)))];
  if (known.length !== roles.length) logger?.debug({ roles }, 'access token carries unknown or repeated roles; ignored');
  // jose has checked these exist, are numbers (iat, nbf, exp) and match iss/aud.
  if (typeof iss !== 'string' || typeof iat !== 'number' || typeof nbf !== 'number' || typeof exp !== 'number') {
    throw new MalformedClaims('registered claims missing');
  }
  return { iss, aud: audience, sub, sid, roles: known, iat, nbf, exp, jti };
}
