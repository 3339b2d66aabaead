import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import type { DescMethod } from '@bufbuild/protobuf';
import type { TokenPair } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import type { Refresher, TokenStore } from './token-store.js';

const AUTH_SERVICE = 'hearth.auth.v1.AuthService';
const TOKEN_PAIR = 'hearth.auth.v1.TokenPair';
/** The one refusal a refresh can cure (AUTH_ERROR.expired in @hearth/authz). */
const EXPIRED = 'token expired';

/**
 * Bearer authentication from a TokenStore, for apps that hold their tokens (TOKEN_DELIVERY_BODY):
 * - sign-in RPCs (those that return a TokenPair) go out without a token, and their tokens are
 *   kept in the store; Logout, and LogoutAll of every session, clear it;
 * - every other call carries the access token, refreshed first when it is about to expire;
 * - a unary call refused as Unauthenticated "token expired" (e.g. with tokens restored from
 *   storage) is retried once after a refresh. Concurrent calls share that refresh.
 * Streams are not retried: their messages cannot be sent twice.
 */
export function sessionAuth(store: TokenStore, refresh: Refresher): Interceptor {
  return (next) => async (req) => {
    const pairField = tokenPairField(req.method);
    if (pairField) {
      const res = await next(req);
      const pair = res.stream ? undefined : (res.message as unknown as Record<string, TokenPair | undefined>)[pairField];
      if (pair?.refreshToken) store.set(pair);
      return res;
    }
    // The app set a token for this call itself.
    if (req.header.has('authorization')) return next(req);
    const token = await store.accessToken(refresh);
    if (token === undefined) return next(req);
    req.header.set('authorization', `Bearer ${token}`);
    let res;
    try {
      res = await next(req);
    } catch (err) {
      if (req.stream || !isExpired(err)) throw err;
      const fresh = await store.refresh(refresh, token);
      if (!fresh) throw err;
      req.header.set('authorization', `Bearer ${fresh.accessToken}`);
      res = await next(req);
    }
    if (endsSession(req.method, req.stream ? undefined : req.message)) store.clear();
    return res;
  };
}

/** A Refresher that calls AuthService.Refresh with `call` (a client without sessionAuth). */
export function refreshWith(call: (refreshToken: string) => Promise<{ tokens?: TokenPair | undefined }>): Refresher {
  return async (refreshToken) => {
    const { tokens } = await call(refreshToken);
    if (!tokens?.accessToken || !tokens.refreshToken) {
      throw new ConnectError('Refresh returned no tokens (was the session signed in with cookies?)', Code.Internal);
    }
    return tokens;
  };
}

function tokenPairField(method: DescMethod): string | undefined {
  return method.output.fields.find((f) => f.fieldKind === 'message' && f.message.typeName === TOKEN_PAIR)?.localName;
}

function isExpired(err: unknown): boolean {
  const e = ConnectError.from(err);
  return e.code === Code.Unauthenticated && e.rawMessage === EXPIRED;
}

function endsSession(method: DescMethod, message: object | undefined): boolean {
  if (method.parent.typeName !== AUTH_SERVICE) return false;
  if (method.name === 'Logout') return true;
  return method.name === 'LogoutAll' && !(message as { keepCurrentSession?: boolean } | undefined)?.keepCurrentSession;
}
