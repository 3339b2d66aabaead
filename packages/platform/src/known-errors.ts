import { type DescMessage } from '@bufbuild/protobuf';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { fieldError, fieldViolation } from '@hearth/authz';
import {
  InvalidPageTokenError,
  VersionConflictError,
  isConnectionFailure,
  isQueryCanceled,
  isSerializationFailure,
  pgErrorCode,
} from '@hearth/db';
import { RedisUnavailableError } from './redis.js';

/**
 * Turns the errors the shared layers throw on purpose into the codes their contracts promise,
 * once, for every service (inside error logging, so they are logged with their real code):
 * - Postgres unreachable, shutting down or out of connections: Unavailable (clients retry);
 *   a statement that hit statement_timeout: Unavailable too (the database is overloaded);
 * - a lost serialization conflict or a broken deadlock: Aborted (retry the whole call);
 * - a page token the server did not issue: InvalidArgument on the request's page_token field;
 * - a stale version: Aborted with the current version;
 * - text the database refuses as an encoding error: InvalidArgument (the input step refuses it
 *   first; this is the net under it).
 * Anything else passes through, and error logging answers it as Internal.
 */
export function knownErrorsInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      throw known(err, req.method.input) ?? err;
    }
  };
}

const ENCODING_SQLSTATES = new Set(['22021', '22P05']);

export function known(err: unknown, input: DescMessage): ConnectError | undefined {
  if (err instanceof ConnectError) return undefined;
  if (err instanceof InvalidPageTokenError) {
    const pageToken = input.fields.find((f) => f.name === 'page_token');
    if (pageToken) return fieldError([fieldViolation(input, pageToken.localName, 'hearth.page_token', err.message)]);
    return new ConnectError(err.message, Code.InvalidArgument);
  }
  if (err instanceof VersionConflictError) return new ConnectError(err.message, Code.Aborted);
  if (err instanceof RedisUnavailableError) return new ConnectError('a dependency is unavailable; try again shortly', Code.Unavailable, undefined, undefined, err);
  if (isConnectionFailure(err)) return new ConnectError('the database is unavailable; try again shortly', Code.Unavailable, undefined, undefined, err);
  if (isQueryCanceled(err)) return new ConnectError('the database did not answer in time; try again shortly', Code.Unavailable, undefined, undefined, err);
  if (isSerializationFailure(err)) return new ConnectError('the request conflicted with another; try again', Code.Aborted, undefined, undefined, err);
  const sqlstate = pgErrorCode(err);
  if (sqlstate && ENCODING_SQLSTATES.has(sqlstate)) return new ConnectError('the request holds text that cannot be stored', Code.InvalidArgument, undefined, undefined, err);
  return undefined;
}
