import { createContextKey } from '@connectrpc/connect';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';

/**
 * The header a Hearth service sends its own identity in when it calls another Hearth service.
 * Kept apart from `Authorization` so that a user's access token and a service token can never be
 * confused: they are verified by different code with different keys and algorithms.
 */
export const SERVICE_TOKEN_HEADER = 'x-hearth-service-token';

const ISSUER = 'hearth-internal';
const AUDIENCE = 'hearth-internal';
const ALG = 'HS256';
const TTL_SEC = 300;
/** A cached token is replaced this long before it expires, so one is never sent stale. */
const RENEW_BEFORE_SEC = 60;
const CLOCK_TOLERANCE_SEC = 30;
/** Verified tokens remembered (a process mints one token and reuses it for minutes). */
const VERIFIED_MAX = 1_000;

/** A Hearth service calling another one (internal RPCs). */
export interface ServiceIdentity {
  /** The calling service's name, e.g. "auth". */
  readonly service: string;
}

/** Connect context key holding the calling service; undefined unless a service token was sent. */
export const serviceIdentityKey = createContextKey<ServiceIdentity | undefined>(undefined, {
  description: 'hearth service identity',
});

/**
 * Mints and verifies the short-lived tokens services call each other with: HS256 JWTs under
 * the shared HEARTH_INTERNAL_SECRET (ADR 0006). Every process of one deployment shares the secret.
 */
export class ServiceTokens {
  private readonly key: Uint8Array;
  private cached: { token: string; renewAt: number } | undefined;
  /**
   * Tokens that verified, until they expire (with the clock tolerance): the same token arrives
   * on every internal call for minutes, and an HMAC check per call showed in the profiles.
   */
  private readonly verified = new LRUCache<string, { identity: ServiceIdentity; untilMs: number }>({ max: VERIFIED_MAX });

  constructor(
    secret: string | Uint8Array,
    /** The name this process mints tokens as. */
    private readonly self: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    if (this.key.byteLength < 32) throw new Error('the internal secret must be at least 32 bytes');
  }

  /** A token for this process's own calls, reused until shortly before it expires. */
  async token(): Promise<string> {
    const nowSec = Math.floor(this.now() / 1000);
    if (this.cached && nowSec < this.cached.renewAt) return this.cached.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALG, typ: 'hearth-service+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(`service:${this.self}`)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + TTL_SEC)
      .sign(this.key);
    this.cached = { token, renewAt: nowSec + TTL_SEC - RENEW_BEFORE_SEC };
    return token;
  }

  /** The calling service, or undefined when the token is not a valid service token. */
  async verify(token: string): Promise<ServiceIdentity | undefined> {
    const known = this.verified.get(token);
    if (known && this.now() < known.untilMs) return known.identity;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: 'hearth-service+jwt',
        clockTolerance: CLOCK_TOLERANCE_SEC,
        currentDate: new Date(this.now()),
      });
      const sub = payload.sub ?? '';
      if (!sub.startsWith('service:') || sub.length <= 'service:'.length) return undefined;
      const identity = { service: sub.slice('service:'.length) };
      // Not before it: a token whose nbf/iat lies ahead is refused by jwtVerify, never cached.
      if (payload.exp !== undefined) this.verified.set(token, { identity, untilMs: (payload.exp + CLOCK_TOLERANCE_SEC) * 1000 });
      return identity;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return undefined;
      throw err;
    }
  }
}
