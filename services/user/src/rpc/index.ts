import type { ConnectRouter } from '@connectrpc/connect';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { blockUser } from './block-user.js';
import { checkBlocks } from './check-blocks.js';
import { checkPresenceSharing } from './check-presence-sharing.js';
import type { RpcDeps } from './context.js';
import { createUser } from './create-user.js';
import { deleteAccount } from './delete-account.js';
import { getMe } from './get-me.js';
import { getProfile } from './get-profile.js';
import { getProfiles } from './get-profiles.js';
import { listBlocks } from './list-blocks.js';
import { listUsers } from './list-users.js';
import { setAccountState } from './set-account-state.js';
import { setUserRoles } from './set-user-roles.js';
import { unblockUser } from './unblock-user.js';
import { updateProfile } from './update-profile.js';
import { updateSettings } from './update-settings.js';

export type { RpcDeps } from './context.js';

/**
 * The UserService handlers, one file per RPC. Who may call each one is decided before they run
 * by the rule table in rules.ts; the handlers map requests to the services and back.
 */
export function registerRpc(router: ConnectRouter, deps: RpcDeps): void {
  router.service(UserService, {
    getMe: getMe(deps),
    getProfile: getProfile(deps),
    getProfiles: getProfiles(deps),
    updateProfile: updateProfile(deps),
    updateSettings: updateSettings(deps),
    blockUser: blockUser(deps),
    unblockUser: unblockUser(deps),
    listBlocks: listBlocks(deps),
    checkBlocks: checkBlocks(deps),
    checkPresenceSharing: checkPresenceSharing(deps),
    deleteAccount: deleteAccount(deps),
    listUsers: listUsers(deps),
    setUserRoles: setUserRoles(deps),
    setAccountState: setAccountState(deps),
    createUser: createUser(deps),
  });
}
