import type { Interceptor } from '@connectrpc/connect';

/**
 * Adds `Authorization: Bearer <token>` to every call when the app has a token. The getter is
 * asked on every call so a refreshed token is used at once.
 */
export function bearerAuth(getAccessToken: () => string | undefined | Promise<string | undefined>): Interceptor {
  return (next) => async (req) => {
    const token = await getAccessToken();
    if (token && !req.header.has('authorization')) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
}
