import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { codeName, logLevelFor } from './codes.js';
import { type RequestContext, getRequestContext } from './request-context.js';
import { observeStream } from './stream.js';

/** What a client sees instead of any error that is not a ConnectError. */
export const INTERNAL_ERROR_MESSAGE = 'internal error';

/**
 * Logs every failed RPC once, with its code, on the request's logger (so with rpc and request
 * id): warn for errors the caller caused or can expect, error for server faults. connect-fastify
 * logs nothing, so without this a failing RPC leaves no trace on the server.
 *
 * Anything thrown that is not a ConnectError (a driver error with SQL in it, a TypeError) is
 * logged at error level with its stack and replaced by `ConnectError('internal error',
 * Code.Internal)`, so no message or stack reaches the client. ConnectErrors are rethrown as they
 * are, details and metadata included.
 *
 * Must run inside telemetryInterceptor, which provides the RequestContext.
 */
export function errorLoggingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const rc = getRequestContext(req.contextValues);
    const report = (err: unknown): ConnectError => reportFailure(rc, err, req.signal);
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: observeStream(res.message, { mapError: report }) };
    } catch (err) {
      throw report(err);
    }
  };
}

function reportFailure(rc: RequestContext, err: unknown, signal: AbortSignal): ConnectError {
  if (err instanceof ConnectError) {
    const level = logLevelFor(err.code);
    const fields = { code: codeName(err.code) };
    if (level === 'error') rc.logger.error({ ...fields, err }, 'rpc failed');
    else rc.logger.warn({ ...fields, error: err.rawMessage }, 'rpc failed');
    return err;
  }
  if (signal.aborted) {
    // The caller went away or its deadline passed and the handler failed because of it, so the
    // handler's error is a symptom, not the story. The signal's reason carries the precise code.
    const code = signal.reason instanceof ConnectError ? signal.reason.code : Code.Canceled;
    rc.logger[logLevelFor(code)]({ code: codeName(code), error: messageOf(err) }, 'rpc failed after the call was aborted');
    return new ConnectError(codeName(code).replace(/_/g, ' '), code, undefined, undefined, err);
  }
  rc.logger.error({ code: codeName(Code.Internal), err }, 'rpc failed with an unexpected error');
  // The cause stays on the server (Connect never serializes it); telemetry and tests can read it.
  return new ConnectError(INTERNAL_ERROR_MESSAGE, Code.Internal, undefined, undefined, err);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
