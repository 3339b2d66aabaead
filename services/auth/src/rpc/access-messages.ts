import { Code, ConnectError } from '@connectrpc/connect';
import type { Role as RoleName } from '@hearth/authz';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import type { AccountState as StateName } from '../store/schema.js';

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
