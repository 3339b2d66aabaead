// SQLSTATE codes, see https://www.postgresql.org/docs/current/errcodes-appendix.html
const UNIQUE_VIOLATION = '23505';
const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';
const QUERY_CANCELED = '57014';
// Class 08 (connection exception), the server shutting down or starting, and a full server.
const UNREACHABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// Socket-level failures node reports while connecting to or talking with the server.
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
// pg reports some of them only in words (its own Error, no code).
const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

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

/**
 * True when a transaction lost a conflict and may be retried as a whole: a serialization
 * failure (serializable, repeatable read) or a deadlock Postgres broke by aborting it.
 */
export function isSerializationFailure(err: unknown): boolean {
  const code = pgErrorCode(err);
  return code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED;
}

/** True when the server cancelled a statement: statement_timeout (or an operator's pg_cancel_backend). */
export function isQueryCanceled(err: unknown): boolean {
  return pgErrorCode(err) === QUERY_CANCELED;
}

/**
 * True when Postgres could not be reached or went away (refused, reset, timed out, shutting
 * down, out of connections, no pooled connection in time): our outage, not the caller's
 * fault, so the platform answers Unavailable, which clients retry.
 */
export function isConnectionFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const sqlstate = pgErrorCode(e);
    if (sqlstate && (sqlstate.startsWith('08') || UNREACHABLE_SQLSTATES.has(sqlstate))) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_ERRNOS.has(code)) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isConnectionFailure(x))) return true;
    const message = e instanceof Error ? e.message : '';
    if (UNREACHABLE_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}
