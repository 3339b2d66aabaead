import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** A value sealed at rest: the id of the key that sealed it, and iv || tag || ciphertext. */
export interface SealedField {
  readonly keyId: string;
  readonly data: Uint8Array;
}

/** One key of a ring (as @hearth/config's `schemas.parseKeyRing` returns them). */
export interface RingKey {
  readonly id: string;
  readonly key: Uint8Array;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The sealed value cannot be opened: unknown key, altered bytes, or another row's value. */
export class FieldCipherError extends Error {
  override readonly name = 'FieldCipherError';
}

/**
 * AES-256-GCM for sensitive columns (message bodies, safety plans, report snapshots), under a
 * key ring from configuration (`schemas.parseKeyRing`): new values are sealed with the first
 * key, and a value names the key that sealed it, so keys rotate without rewriting rows. Every
 * value is bound to a context (the row's id, say) as additional authenticated data: a value
 * copied into another row does not open there.
 */
export class FieldCipher {
  readonly #keys: ReadonlyMap<string, Uint8Array>;
  readonly #current: RingKey;
  readonly #digestKeys = new Map<string, Uint8Array>();

  constructor(ring: readonly RingKey[]) {
    const [current] = ring;
    if (!current) throw new Error('a key ring needs at least one key');
    this.#current = current;
    this.#keys = new Map(ring.map((k) => [k.id, k.key]));
  }

  /** The id new values are sealed with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  seal(plaintext: string, context: string): SealedField {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.#current.id, data: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  }

  /** Throws FieldCipherError when the key is not in the ring or the value does not open. */
  open(field: SealedField, context: string): string {
    const key = this.#keys.get(field.keyId);
    if (!key) throw new FieldCipherError(`no key "${field.keyId}" in the ring`);
    const data = Buffer.from(field.data.buffer, field.data.byteOffset, field.data.byteLength);
    if (data.length < IV_BYTES + TAG_BYTES) throw new FieldCipherError('sealed value is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new FieldCipherError('sealed value does not open (altered, or sealed for another row)');
    }
  }

  /**
   * A keyed digest (HMAC-SHA256 under a key derived from ring key `keyId`, the current one by
   * default): equal texts give equal digests under one key, and nobody without the key can test
   * a guess, so a stored digest tells a repeat from a different text without keeping the text.
   */
  digest(text: string, keyId: string = this.#current.id): Uint8Array {
    let sub = this.#digestKeys.get(keyId);
    if (!sub) {
      const key = this.#keys.get(keyId);
      if (!key) throw new FieldCipherError(`no key "${keyId}" in the ring`);
      sub = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'hearth field digest', 32));
      this.#digestKeys.set(keyId, sub);
    }
    return createHmac('sha256', sub).update(text, 'utf8').digest();
  }

  /**
   * Whether `text` is what a stored digest was made of (under the key it names): how an
   * idempotent write tells a retry from a different request reusing its key. Constant time.
   */
  digestMatches(text: string, stored: { readonly digest: Uint8Array; readonly keyId: string }): boolean {
    const fresh = this.digest(text, stored.keyId);
    return fresh.length === stored.digest.length && timingSafeEqual(fresh, stored.digest);
  }

  // Never printed, whatever logs the object.
  toJSON(): string {
    return '[FieldCipher]';
  }
}
