import { defineRules, rule } from '@hearth/authz';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';

/** Who may call each UserService RPC (default deny; see packages/authz rules.ts). */
export const userRules = defineRules(UserService, {
  getMe: rule.signedIn(),
  getProfile: rule.signedIn({
    hiddenByBlock: 'userId',
    note: 'by handle the service applies blocks and discoverable_by_handle; staff see every profile',
  }),
  getProfiles: rule.signedIn({ services: true, note: 'hidden profiles are left out by the service' }),
  updateProfile: rule.signedIn({ note: "the caller's own profile" }),
  updateSettings: rule.signedIn({ note: "the caller's own settings" }),
  blockUser: rule.signedIn(),
  unblockUser: rule.signedIn(),
  listBlocks: rule.signedIn({ note: "the caller's own blocks" }),
  checkBlocks: rule.internal({ roles: ['moderator'] }),
  checkPresenceSharing: rule.internal({ note: 'the realtime gateway, before it announces someone' }),
  deleteAccount: rule.signedIn({ note: "the caller's own account, confirmed by handle" }),
  listUsers: rule.roles(['moderator'], { services: true, note: 'service identity: operator tools (grant-role)' }),
  setUserRoles: rule.roles(['admin'], { services: true, note: 'service identity: the operator tool that makes the first admin' }),
  setAccountState: rule.roles(['moderator'], {
    services: true,
    note: 'the moderation service acts as a service; only admins may suspend staff (service check)',
  }),
  createUser: rule.internal({ note: "AuthService delivers new accounts through its job queue" }),
});
