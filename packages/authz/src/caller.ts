import type { HandlerContext } from '@connectrpc/connect';
import { AUTH_ERROR, unauthenticated } from './errors.js';
import { type Identity, type Role, identityKey } from './identity.js';
import { type ServiceIdentity, serviceIdentityKey } from './service-token.js';

/** Who made a call: a signed-in person, or another Hearth service (internal RPCs). */
export type Caller =
  | { readonly kind: 'user'; readonly identity: Identity }
  | { readonly kind: 'service'; readonly service: ServiceIdentity };

/** The caller as the authentication step established it; undefined for anonymous calls. */
export function callerFrom(values: HandlerContext['values']): Caller | undefined {
  const service = values.get(serviceIdentityKey);
  if (service) return { kind: 'service', service };
  const identity = values.get(identityKey);
  return identity ? { kind: 'user', identity } : undefined;
}

/** The caller of a non-public method; Unauthenticated when anonymous. */
export function requireCaller(ctx: HandlerContext): Caller {
  const caller = callerFrom(ctx.values);
  if (!caller) throw unauthenticated(AUTH_ERROR.required);
  return caller;
}

/** Platform moderators and admins act on every circle and are never hidden by blocks. */
export function isStaff(identity: Identity): boolean {
  return hasAnyRole(identity, ['moderator', 'admin']);
}

export function hasAnyRole(identity: Identity, roles: readonly Role[]): boolean {
  // An admin may do everything a moderator may (user_service.proto, Role).
  return identity.roles.some((r) => roles.includes(r) || (r === 'admin' && roles.includes('moderator')));
}
