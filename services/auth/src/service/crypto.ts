import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A random opaque token: `bytes` random bytes, base64url. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Tokens and idempotency keys are stored only as their SHA-256. */
export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM envelope for private signing keys: iv || tag || ciphertext. The kid is the
 * additional authenticated data, so a wrapped key moved to another row does not decrypt.
 */
export class KeyWrapper {
  readonly #kek: Buffer;

  constructor(kekBase64: string) {
    const kek = Buffer.from(kekBase64.trim(), 'base64');
    if (kek.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
    this.#kek = kek;
  }

  wrap(plaintext: Buffer, kid: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the KEK is wrong, the kid differs or the bytes were altered. */
  unwrap(envelope: Buffer, kid: string): Buffer {
    if (envelope.length <= IV_BYTES + TAG_BYTES) throw new Error('wrapped key is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.#kek, envelope.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(envelope.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(envelope.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  // Never printed, whatever logs the object.
  toJSON(): string {
    return '[KeyWrapper]';
  }
}
