import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Role as RoleName } from '@hearth/authz';
import { FlowIntent, IdentityProvider, type LinkedIdentitySchema } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import type { AccountState as StateName, FlowIntentName, IdentityRow, ProviderName } from '../service/model.js';

// The auth service's one mapping module: proto enums and messages <-> the domain's names and rows.

const ROLES: ReadonlyMap<Role, RoleName> = new Map([
  [Role.USER, 'user'],
  [Role.MODERATOR, 'moderator'],
  [Role.ADMIN, 'admin'],
]);

const STATES: ReadonlyMap<AccountState, StateName> = new Map([
  [AccountState.ACTIVE, 'active'],
  [AccountState.SUSPENDED, 'suspended'],
  [AccountState.DELETED, 'deleted'],
]);

/** Protovalidate refuses UNSPECIFIED and unknown values first; this guards callers that skip it. */
export function roleNames(roles: readonly Role[]): RoleName[] {
  return roles.map((r) => {
    const name = ROLES.get(r);
    if (!name) throw new ConnectError('roles must be ROLE_USER, ROLE_MODERATOR or ROLE_ADMIN', Code.InvalidArgument);
    return name;
  });
}

export function stateName(state: AccountState): StateName {
  const name = STATES.get(state);
  if (!name) throw new ConnectError('state must be ACTIVE, SUSPENDED or DELETED', Code.InvalidArgument);
  return name;
}

const PROVIDERS: ReadonlyMap<IdentityProvider, ProviderName> = new Map([
  [IdentityProvider.GOOGLE, 'google'],
  [IdentityProvider.APPLE, 'apple'],
]);
const PROVIDER_ENUMS: Record<ProviderName, IdentityProvider> = { google: IdentityProvider.GOOGLE, apple: IdentityProvider.APPLE };

/** Protovalidate refuses UNSPECIFIED first; this guards callers that skip the interceptor. */
export function providerName(p: IdentityProvider): ProviderName {
  const name = PROVIDERS.get(p);
  if (!name) throw new ConnectError('provider must be GOOGLE or APPLE', Code.InvalidArgument);
  return name;
}

export function intentName(i: FlowIntent): FlowIntentName {
  if (i === FlowIntent.SIGN_IN) return 'sign_in';
  if (i === FlowIntent.LINK) return 'link';
  throw new ConnectError('intent must be SIGN_IN or LINK', Code.InvalidArgument);
}

export function linkedIdentity(row: IdentityRow): MessageInitShape<typeof LinkedIdentitySchema> {
  return {
    provider: PROVIDER_ENUMS[row.provider],
    email: row.email ?? '',
    createTime: timestampFromDate(row.created_at),
    ...(row.last_used_at ? { lastUseTime: timestampFromDate(row.last_used_at) } : {}),
  };
}
