import { Code, ConnectError } from '@connectrpc/connect';

/** The part of a pino logger authz needs; pino's `Logger` satisfies it. */
export interface AuthzLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Every message a client can see from authentication. Deliberately few: telling a caller which
 * check its token failed (signature, issuer, audience, ...) helps an attacker, not the app. The
 * one exception is expiry, because clients refresh on it.
 */
export const AUTH_ERROR = {
  required: 'authentication required',
  invalid: 'invalid access token',
  expired: 'token expired',
  revoked: 'session revoked',
  csrf: 'missing or invalid CSRF token',
  origin: 'origin not allowed',
  unavailable: 'authentication temporarily unavailable',
} as const;

export function unauthenticated(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated);
}

export function permissionDenied(message: string): ConnectError {
  return new ConnectError(message, Code.PermissionDenied);
}

/**
 * Our infrastructure (JWKS endpoint, deny-list store) failed, not the caller's token. Unavailable
 * is retryable; Unauthenticated would make clients throw away good tokens or log people out.
 */
export function authUnavailable(cause: unknown): ConnectError {
  return new ConnectError(AUTH_ERROR.unavailable, Code.Unavailable, undefined, undefined, cause);
}

/** Rejects when `promise` has not settled within `ms`; the operation itself is not cancelled. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
