/** A page token that was not produced by `encodeCursor` (or was tampered with); map it to InvalidArgument. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor(reason: string) {
    super(`invalid page token: ${reason}`);
  }
}

// ADR 0003 caps page_token at 512 bytes; anything longer cannot be ours.
const MAX_TOKEN_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Encodes a list position (e.g. `{ t: '2026-11-23T10:00:00Z', id: '0199…' }`) as an opaque token.
 * Opaque to clients by contract; it is not signed, so decoded values must be validated by the caller.
 */
export function encodeCursor(obj: Record<string, string | number>): string {
  const token = Buffer.from(JSON.stringify(obj), 'utf8').toString('base64url');
  if (token.length > MAX_TOKEN_LENGTH) throw new RangeError(`cursor is ${token.length} chars, above ${MAX_TOKEN_LENGTH}`);
  return token;
}

/** Decodes a token from `encodeCursor`; throws `InvalidCursorError` for anything else. */
export function decodeCursor(token: string): Record<string, unknown> {
  if (token.length === 0) throw new InvalidCursorError('empty');
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidCursorError('too long');
  // Buffer's base64 decoder skips characters it does not know, so check the alphabet first.
  if (!BASE64URL.test(token)) throw new InvalidCursorError('not base64url');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidCursorError('not an object');
  }
  return value as Record<string, unknown>;
}
