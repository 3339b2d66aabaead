import { defineRules, rule } from '@hearth/authz';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';

/** Who may call each AuthService RPC (default deny; see packages/authz rules.ts). */
export const authRules = defineRules(AuthService, {
  register: rule.public(),
  login: rule.public(),
  refresh: rule.public({ note: 'the refresh token is the credential' }),
  logout: rule.public({ note: 'must work with an expired access token; the refresh token names the session' }),
  startOAuth: rule.public({ note: 'a LINK flow reads the identity when one is sent' }),
  finishOAuth: rule.public(),
  logoutAll: rule.signedIn(),
  listSessions: rule.signedIn({ note: "the caller's own sessions only" }),
  revokeSession: rule.signedIn({ note: "the caller's own sessions only (NotFound otherwise)" }),
  changePassword: rule.signedIn(),
  linkOAuth: rule.signedIn(),
  unlinkOAuth: rule.signedIn(),
  listLinkedIdentities: rule.signedIn(),
  revokeUserSessions: rule.internal({ note: 'called by UserService on suspension and deletion' }),
  setAccountAccess: rule.internal({ note: 'UserService owns roles and state; auth mints tokens from them' }),
});
