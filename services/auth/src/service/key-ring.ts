import type { Database } from '@hearth/db';
import { newId } from '@hearth/db';
import type { AccessTokenAlgorithm } from '@hearth/authz';
import { type CryptoKey, type JWK, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { Db } from '../store/accounts.js';
import type { AuthTables, SigningKeyRow } from '../store/schema.js';
import { signingKeyStore } from '../store/signing-keys.js';
import type { KeyWrapper } from './crypto.js';

export interface KeyRingLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KeyRingOptions {
  readonly db: Database<AuthTables>;
  readonly wrapper: KeyWrapper;
  /** Algorithm of keys created from now on; existing keys keep theirs. */
  readonly alg: AccessTokenAlgorithm;
  /** How long a key signs before its successor takes over. */
  readonly rotationMs: number;
  /** Access token lifetime: a retired key stays published this long (plus skew) after retiring. */
  readonly accessTtlMs: number;
  /**
   * A successor is published at least this long before it signs. Must exceed every JWKS cache in
   * front of verifiers (our Cache-Control max-age 300 s, the verifier's 10 min). Default 1 h.
   */
  readonly publishLeadMs?: number;
  readonly clockSkewMs?: number;
  /** How long the key rows are cached per replica, so rotations by another replica show up. Default 60 s. */
  readonly cacheTtlMs?: number;
  /** How often rotation is checked. Default 1 h. */
  readonly checkIntervalMs?: number;
  readonly now?: () => Date;
  readonly logger?: KeyRingLogger;
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: AccessTokenAlgorithm;
  readonly key: CryptoKey;
}

export interface PublicJwks {
  readonly keys: JWK[];
}

/**
 * The access token signing keys and their rotation. Every key moves through: published (in the
 * JWKS, not signing) -> signing -> retired (in the JWKS until every token it signed has expired)
 * -> gone. A successor is published `publishLead` before it signs, so verifiers whose JWKS
 * caches predate it never see an unknown kid. Decisions are taken under a Postgres advisory
 * lock, so replicas agree on one successor; reads are cached per replica for `cacheTtl`.
 * Private keys exist in plaintext only in memory (as non-extractable CryptoKeys).
 */
export class KeyRing {
  readonly #o: Required<Omit<KeyRingOptions, 'logger'>> & { logger: KeyRingLogger | undefined };
  #rows: { rows: SigningKeyRow[]; loadedAt: number } | undefined;
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: KeyRingOptions) {
    this.#o = {
      publishLeadMs: 3_600_000,
      clockSkewMs: 60_000,
      cacheTtlMs: 60_000,
      checkIntervalMs: 3_600_000,
      now: () => new Date(),
      ...opts,
      logger: opts.logger,
    };
  }

  /**
   * Re-checks rotation on a timer (unref'd). The first check is `rotate()` after migrations, or
   * lazily on the first signature or JWKS request when this replica did not migrate.
   */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.rotate().catch((err: unknown) => this.#o.logger?.error({ err }, 'signing key rotation check failed'));
    }, this.#o.checkIntervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The rotation decision; idempotent, safe to run on every replica at once. */
  async rotate(now: Date = this.#o.now()): Promise<void> {
    const t = now.getTime();
    await this.#o.db.transaction(async (tx) => {
      await signingKeyStore.lock(tx);
      const rows = await signingKeyStore.listUnexpired(tx, now);
      const signer = pickSigner(rows, now);
      if (!signer) {
        // First boot, or every key retired while no replica ran: a key that signs at once.
        // Verifiers fetch the JWKS again when they meet its unknown kid.
        await this.#create(tx, now, now, new Date(t + this.#o.rotationMs));
        return;
      }
      if (rows.some((k) => k.sign_from > signer.sign_from)) return;
      // Early enough that the hourly check cannot miss the window.
      if (t < signer.retire_at.getTime() - this.#o.publishLeadMs - this.#o.checkIntervalMs) return;
      const signFrom = new Date(Math.max(signer.retire_at.getTime(), t + this.#o.publishLeadMs));
      await this.#create(tx, now, signFrom, new Date(signFrom.getTime() + this.#o.rotationMs));
      if (signFrom > signer.retire_at) {
        // The check ran late: the current key signs on until its successor may, so no gap.
        await signingKeyStore.extend(tx, signer.kid, signFrom, this.#expiry(signFrom));
      }
    });
    this.#rows = undefined;
  }

  /** The key to sign with now. */
  async signingKey(): Promise<SigningKey> {
    const now = this.#o.now();
    let signer = pickSigner(await this.#load(now), now);
    if (!signer) {
      // The same instant as the lookup, so the key it creates signs at `now`.
      await this.rotate(now);
      signer = pickSigner(await this.#load(now), now);
      if (!signer) throw new Error('no signing key after rotation');
    }
    const row = signer;
    let key = this.#keys.get(row.kid);
    if (!key) {
      key = this.#decrypt(row);
      this.#keys.set(row.kid, key);
      key.catch(() => this.#keys.delete(row.kid));
    }
    return { kid: row.kid, alg: row.alg as AccessTokenAlgorithm, key: await key };
  }

  /** The public keys verifiers may meet: published and not yet expired. */
  async jwks(): Promise<PublicJwks> {
    const now = this.#o.now();
    let rows = await this.#load(now);
    if (!pickSigner(rows, now)) {
      await this.rotate(now);
      rows = await this.#load(now);
    }
    return { keys: rows.filter((k) => k.publish_at <= now).map((k) => k.public_jwk as JWK) };
  }

  async #load(now: Date): Promise<SigningKeyRow[]> {
    const t = now.getTime();
    if (!this.#rows || t - this.#rows.loadedAt >= this.#o.cacheTtlMs || t < this.#rows.loadedAt) {
      this.#rows = { rows: await signingKeyStore.listUnexpired(this.#o.db.db, now), loadedAt: t };
    }
    return this.#rows.rows.filter((k) => k.expire_at > now);
  }

  async #create(tx: Db, now: Date, signFrom: Date, retireAt: Date): Promise<void> {
    const kid = newId();
    const alg = this.#o.alg;
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateJwk = Buffer.from(JSON.stringify(await exportJWK(privateKey)), 'utf8');
    const privateKeyEnc = this.#o.wrapper.wrap(privateJwk, kid);
    privateJwk.fill(0);
    await signingKeyStore.insert(tx, {
      kid,
      alg,
      publicJwk,
      privateKeyEnc,
      createdAt: now,
      publishAt: now,
      signFrom,
      retireAt,
      expireAt: this.#expiry(retireAt),
    });
    this.#o.logger?.info({ kid, alg, signFrom, retireAt }, 'signing key created');
  }

  #expiry(retireAt: Date): Date {
    return new Date(retireAt.getTime() + this.#o.accessTtlMs + this.#o.clockSkewMs);
  }

  async #decrypt(row: SigningKeyRow): Promise<CryptoKey> {
    const plain = this.#o.wrapper.unwrap(row.private_key_enc, row.kid);
    try {
      const jwk = JSON.parse(plain.toString('utf8')) as JWK;
      return (await importJWK(jwk, row.alg, { extractable: false })) as CryptoKey;
    } finally {
      plain.fill(0);
    }
  }
}

/** The key that signs at `now`: the latest to have started signing, unless it has retired. */
function pickSigner(rows: readonly SigningKeyRow[], now: Date): SigningKeyRow | undefined {
  let signer: SigningKeyRow | undefined;
  for (const k of rows) if (k.sign_from <= now && (!signer || k.sign_from > signer.sign_from)) signer = k;
  return signer && signer.retire_at > now ? signer : undefined;
}
