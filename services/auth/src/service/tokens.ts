import type { AccessTokenClaims, Role } from '@hearth/authz';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from './crypto.js';
import type { KeyRing } from './key-ring.js';

export interface AccessToken {
  readonly token: string;
  readonly expiresAt: Date;
}

export interface RefreshToken {
  readonly token: string;
  readonly hash: Buffer;
}

/** 256 random bits: unguessable, so a plain SHA-256 (no salt, no slow hash) is a safe lookup key. */
const REFRESH_TOKEN_BYTES = 32;

/** Mints access tokens (claims exactly per @hearth/authz AccessTokenClaims) and refresh tokens. */
export class TokenIssuer {
  constructor(
    private readonly keys: KeyRing,
    private readonly opts: { issuer: string; audience: string; accessTtlSec: number },
  ) {}

  get accessTtlMs(): number {
    return this.opts.accessTtlSec * 1000;
  }

  async access(subject: { userId: string; sessionId: string; roles: readonly Role[] }, now: Date): Promise<AccessToken> {
    const { kid, alg, key } = await this.keys.signingKey();
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.opts.accessTtlSec;
    const claims: AccessTokenClaims = {
      iss: this.opts.issuer,
      aud: this.opts.audience,
      sub: subject.userId,
      sid: subject.sessionId,
      roles: subject.roles,
      iat,
      nbf: iat,
      exp,
      jti: randomUUID(),
    };
    const token = await new SignJWT({ ...claims, roles: [...claims.roles] }).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  refresh(): RefreshToken {
    const token = randomToken(REFRESH_TOKEN_BYTES);
    return { token, hash: sha256(token) };
  }

  /**
   * The latest moment any access token of a session issued up to `now` can expire: what the
   * deny-list entry of a revoked session must cover.
   */
  lastAccessExpiry(now: Date): Date {
    return new Date(now.getTime() + this.accessTtlMs);
  }
}

/** Roles stored on the account, restricted to the ones tokens may carry. */
export function toRoles(stored: readonly string[]): Role[] {
  const known: ReadonlySet<string> = new Set<Role>(['user', 'moderator', 'admin']);
  return stored.filter((r): r is Role => known.has(r));
}
