import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { AuthService as AuthServiceDesc } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { TokenDelivery, type TokenPairSchema } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { clientAddressKey } from '@hearth/platform';
import { requestContextKey } from '@hearth/telemetry';
import type { AccountAccess } from '../service/account-access.js';
import type { PasswordAccounts } from '../service/password-accounts.js';
import type { AuditLogger, RequestMeta } from '../service/audit.js';
import { tokenCookies } from '../service/cookies.js';
import type { OAuthSignIn } from '../service/oauth-sign-in.js';
import type { SessionControl } from '../service/session-control.js';
import type { IssuedTokens } from '../service/sessions.js';

/** What the handlers need: the services, and the clock cookies' lifetimes are counted from. */
export interface RpcDeps {
  readonly auth: PasswordAccounts;
  readonly sessions: SessionControl;
  readonly oauth: OAuthSignIn;
  readonly access: AccountAccess;
  readonly now: () => Date;
  /** Used when a call has no request context (a router transport without telemetry). */
  readonly logger: AuditLogger;
}

export type Handlers = Partial<ServiceImpl<typeof AuthServiceDesc>>;

export function requestMeta(ctx: HandlerContext, deps: RpcDeps): RequestMeta {
  const addr = ctx.values.get(clientAddressKey);
  const rc = ctx.values.get(requestContextKey);
  return { ip: addr.ip, userAgent: addr.userAgent, requestId: rc?.requestId ?? null, logger: rc?.logger ?? deps.logger };
}

/**
 * Hands the tokens over as the client asked: in the body (apps), or as HTTP-only cookies with the
 * token strings left out of the body (web apps on the API origin).
 */
export function deliver(
  tokens: IssuedTokens,
  delivery: TokenDelivery,
  ctx: HandlerContext,
  now: Date,
): MessageInitShape<typeof TokenPairSchema> {
  const pair = {
    accessExpireTime: timestampFromDate(tokens.accessExpiresAt),
    refreshExpireTime: timestampFromDate(tokens.refreshExpiresAt),
    sessionId: tokens.sessionId,
    userId: tokens.userId,
  };
  if (delivery !== TokenDelivery.COOKIE) return { ...pair, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
  const cookies = tokenCookies({
    accessToken: tokens.accessToken,
    accessMaxAgeSec: (tokens.accessExpiresAt.getTime() - now.getTime()) / 1000,
    refreshToken: tokens.refreshToken,
    refreshMaxAgeSec: (tokens.refreshExpiresAt.getTime() - now.getTime()) / 1000,
  });
  for (const c of cookies) ctx.responseHeader.append('set-cookie', c);
  return pair;
}
