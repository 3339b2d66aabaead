import { uuidv7 } from 'uuidv7';

/** A new UUIDv7: time-ordered, so primary-key inserts stay append-only in the btree. */
export function newId(): string {
  return uuidv7();
}

// Any case: RFC 9562 says UUIDs compare case-insensitively and are output in lower case.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `value` spells a UUID, in any case. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * The one spelling of a UUID Hearth stores and compares (lower case), or undefined when `value`
 * is not a UUID. Request fields are put in this form at the boundary, so no service ever
 * compares two spellings of one id.
 */
export function canonicalUuid(value: string): string | undefined {
  if (CANONICAL.test(value)) return value;
  return UUID.test(value) ? value.toLowerCase() : undefined;
}

/** Whether `value` is a UUID already in canonical (lower-case) form. */
export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL.test(value);
}
