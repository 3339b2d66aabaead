import { Code, ConnectError } from '@connectrpc/connect';
import type { Caller, Role } from '@hearth/authz';
import type { Database } from '@hearth/db';
import { accountStore } from '../store/accounts.js';
import { identityStore } from '../store/identities.js';
import type { AccountState, AuthTables } from '../store/schema.js';
import { type AuditType, type RequestMeta, recordAudit } from './audit.js';
import type { Sessions } from './sessions.js';
import { toRoles } from './tokens.js';

export interface AccountAccessDeps {
  readonly db: Database<AuthTables>;
  readonly sessions: Sessions;
  readonly now: () => Date;
}

/** What UserService (which owns roles and states) sends: the complete, new values. */
export interface AccessChange {
  readonly userId: string;
  readonly roles: readonly Role[];
  readonly state: AccountState;
}

/** Roles in one order, so stored arrays compare equal and tokens list them alike. */
const ROLE_ORDER: readonly Role[] = ['user', 'moderator', 'admin'];

/** The role set an account holds: `user` always (the contract makes it implicit), no duplicates. */
export function canonicalRoles(roles: readonly Role[]): Role[] {
  const set = new Set<Role>(['user', ...roles]);
  return ROLE_ORDER.filter((r) => set.has(r));
}

/**
 * The internal RPCs' own gate. The rule table admits only service identities already; this
 * holds even if a rule is loosened by mistake, because these calls end sessions and erase
 * accounts.
 */
export function requireService(caller: Caller): string {
  if (caller.kind !== 'service') throw new ConnectError('only Hearth services may call this RPC', Code.PermissionDenied);
  return caller.service.service;
}

/** The internal RPCs UserService keeps accounts in step with: RevokeUserSessions, SetAccountAccess. */
export class AccountAccess {
  constructor(private readonly d: AccountAccessDeps) {}

  /** Ends every live session of the user; 0 when there are none or the user does not exist. */
  async revokeUserSessions(caller: Caller, userId: string, meta: RequestMeta): Promise<number> {
    const by = requireService(caller);
    const now = this.d.now();
    return this.d.db.transaction((tx) =>
      this.d.sessions.revokeAll(tx, { userId, keep: undefined, reason: 'user_sessions_revoked', meta, now, detail: { by } }),
    );
  }

  /**
   * Copies roles and state into the account, in one transaction with everything they imply:
   * a removed role, SUSPENDED or DELETED ends every session (rows revoked, access tokens on the
   * deny-list after commit); DELETED also unlinks the identities and erases email and password.
   * The account row is locked, so concurrent calls apply one after the other, and a sign-in
   * (which holds the row FOR SHARE while it starts a session) either finishes first and has
   * its session ended here, or waits and sees the new state.
   *
   * Idempotent: the same values again write nothing and end nothing. A live session of a
   * suspended or deleted account can only be left over from an earlier failure; it is ended.
   */
  async setAccountAccess(caller: Caller, input: AccessChange, meta: RequestMeta): Promise<number> {
    const by = requireService(caller);
    const roles = canonicalRoles(input.roles);
    const now = this.d.now();
    return this.d.db.transaction(async (tx) => {
      const account = await accountStore.findById(tx, input.userId, { forUpdate: true });
      if (!account) throw new ConnectError('account not found', Code.NotFound);
      if (account.state === 'deleted' && input.state !== 'deleted') {
        throw new ConnectError('the account is deleted, which cannot be undone', Code.FailedPrecondition);
      }
      const before = { roles: canonicalRoles(toRoles(account.roles)), state: account.state };
      const removedRoles = before.roles.filter((r) => !roles.includes(r));
      const changed = account.state !== input.state || account.roles.join(',') !== roles.join(',');
      const deleting = input.state === 'deleted' && account.state !== 'deleted';

      let unlinkedProviders: string[] = [];
      if (deleting) {
        unlinkedProviders = await identityStore.deleteAllOfAccount(tx, account.id);
        await accountStore.erase(tx, account.id, roles, now);
      } else if (changed) {
        await accountStore.setAccess(tx, account.id, { roles, state: input.state, now });
      }

      const reason = revocationReason(input.state, removedRoles);
      const ended = reason
        ? await this.d.sessions.revokeAll(tx, { userId: account.id, keep: undefined, reason, meta, now, detail: { by }, quietWhenNone: true })
        : 0;
      if (changed) {
        const detail = {
          by,
          from: before,
          to: { roles, state: input.state },
          revokedSessionCount: ended,
          ...(deleting ? { unlinkedProviders, credentialsErased: true } : {}),
        };
        await recordAudit(tx, meta, { type: 'account_access_changed', userId: account.id, detail }, now);
      }
      return ended;
    });
  }
}

/** Why the sessions end, or undefined when the change takes nothing away. */
function revocationReason(state: AccountState, removedRoles: readonly Role[]): AuditType | undefined {
  if (state === 'deleted') return 'account_deleted';
  if (state === 'suspended') return 'account_suspended';
  return removedRoles.length > 0 ? 'role_removed' : undefined;
}
