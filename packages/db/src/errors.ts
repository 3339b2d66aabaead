// SQLSTATE codes, see https://www.postgresql.org/docs/current/errcodes-appendix.html
const UNIQUE_VIOLATION = '23505';
const SERIALIZATION_FAILURE = '40001';

/** The SQLSTATE of a Postgres error (as thrown by `pg`), or undefined for anything else. */
export function pgErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && code.length === 5 ? code : undefined;
}

/**
 * True when `err` is a unique-constraint violation, optionally of one named constraint, so a
 * store can turn a duplicate into AlreadyExists (or into "return the original" for idempotency keys).
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (pgErrorCode(err) !== UNIQUE_VIOLATION) return false;
  return constraint === undefined || (err as { constraint?: unknown }).constraint === constraint;
}

/** True when a serializable/repeatable-read transaction lost a conflict and may be retried as a whole. */
export function isSerializationFailure(err: unknown): boolean {
  return pgErrorCode(err) === SERIALIZATION_FAILURE;
}
