import type { ConnectRouter } from '@connectrpc/connect';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { changePassword } from './change-password.js';
import type { RpcDeps } from './context.js';
import { finishOAuth } from './finish-oauth.js';
import { linkOAuth } from './link-oauth.js';
import { listLinkedIdentities } from './list-linked-identities.js';
import { listSessions } from './list-sessions.js';
import { login } from './login.js';
import { logoutAll } from './logout-all.js';
import { logout } from './logout.js';
import { refresh } from './refresh.js';
import { register } from './register.js';
import { revokeSession } from './revoke-session.js';
import { revokeUserSessions } from './revoke-user-sessions.js';
import { setAccountAccess } from './set-account-access.js';
import { startOAuth } from './start-oauth.js';
import { unlinkOAuth } from './unlink-oauth.js';

export type { RpcDeps } from './context.js';

/** The AuthService handlers, one file per RPC. */
export function registerRpc(router: ConnectRouter, deps: RpcDeps): void {
  router.service(AuthService, {
    register: register(deps),
    login: login(deps),
    refresh: refresh(deps),
    logout: logout(deps),
    logoutAll: logoutAll(deps),
    listSessions: listSessions(deps),
    revokeSession: revokeSession(deps),
    changePassword: changePassword(deps),
    startOAuth: startOAuth(deps),
    finishOAuth: finishOAuth(deps),
    linkOAuth: linkOAuth(deps),
    unlinkOAuth: unlinkOAuth(deps),
    listLinkedIdentities: listLinkedIdentities(deps),
    revokeUserSessions: revokeUserSessions(deps),
    setAccountAccess: setAccountAccess(deps),
  });
}
