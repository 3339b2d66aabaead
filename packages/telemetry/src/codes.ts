import { Code, ConnectError } from '@connectrpc/connect';

/**
 * `ok` for success, else the Connect protocol's wire name for a code (`invalid_argument`, `not_found`, ...): the same
 * string clients see in error JSON and OTel's `rpc.connect_rpc.error_code`, so metrics, traces
 * and client logs can be joined on it.
 */
export function codeName(code: Code | undefined): string {
  if (code === undefined) return 'ok';
  return Code[code].replace(/(?<=[a-z])(?=[A-Z])/g, '_').toLowerCase();
}

/**
 * The code a client receives for a thrown value. Anything that is not a ConnectError is answered
 * as Internal (errorLoggingInterceptor makes that explicit; Connect does the same without it).
 */
export function codeOf(err: unknown): Code {
  return err instanceof ConnectError ? err.code : Code.Internal;
}

// Errors the caller can fix or that are expected in normal operation: logged at warn.
const CLIENT_CODES: ReadonlySet<Code> = new Set([
  Code.Canceled,
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.ResourceExhausted,
  Code.FailedPrecondition,
  Code.Aborted,
  Code.OutOfRange,
  Code.Unimplemented,
  Code.Unauthenticated,
]);

/**
 * warn for client errors; error for server faults (Internal, Unknown, DataLoss, Unavailable) and
 * DeadlineExceeded, which means the server was too slow.
 */
export function logLevelFor(code: Code): 'warn' | 'error' {
  return CLIENT_CODES.has(code) ? 'warn' : 'error';
}
