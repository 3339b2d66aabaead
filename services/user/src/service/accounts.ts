import { Code, ConnectError } from '@connectrpc/connect';
import { type Caller, type Identity, hasAnyRole } from '@hearth/authz';
import { type Database, type EventPublisher, type Tx, assertVersion, pageSizeOf } from '@hearth/db';
import { auditStore } from '../store/audit.js';
import { type ProfileFilter, profileStore } from '../store/profiles.js';
import type { AccountState, ProfileRow, RoleName, UsersTables } from '../store/schema.js';
import type { AccountSync } from './account-sync.js';
import { type ProfileView, actorOf, normalizeHandle, normalizeRoles, sameRoles, userNotFound, viewOf } from './model.js';
import { DEFAULT_PAGE_SIZE, type UserPages } from './pages.js';
import { accountTopic } from './topics.js';

export interface AccountsDeps {
  readonly db: Database<UsersTables>;
  readonly sync: AccountSync;
  readonly bus: EventPublisher;
  readonly now: () => Date;
  /** How long a deleted account is kept before the purge (HEARTH_USER_DELETED_RETENTION_DAYS). */
  readonly retentionMs: number;
  readonly pages: UserPages;
}

export interface AdminChange {
  readonly userId: string;
  readonly version: number;
  readonly reason: string;
}

/** Account administration: deletion by its owner, roles and suspension by staff. */
export class Accounts {
  constructor(private readonly d: AccountsDeps) {}

  /**
   * Takes effect at once in this service (state, emptied display fields); the sessions, the
   * credentials and the circle memberships are ended by jobs enqueued in the same transaction,
   * and the sessions also right after commit.
   */
  async deleteAccount(identity: Identity, confirmHandle: string): Promise<Date> {
    const me = identity.userId;
    const now = this.d.now();
    const purgeAfter = new Date(now.getTime() + this.d.retentionMs);
    await this.d.db.transaction(async (tx) => {
      const row = await profileStore.findById(tx, me, { forUpdate: true });
      if (!row) throw new ConnectError('profile not found', Code.NotFound);
      if (row.state === 'deleted' || row.handle !== normalizeHandle(confirmHandle)) {
        throw new ConnectError('confirm_handle is not your current handle', Code.FailedPrecondition);
      }
      const after = await profileStore.update(tx, me, {
        state: 'deleted',
        display_name: '',
        bio: '',
        pronouns: '',
        avatar_url: '',
        delete_time: now,
        purge_after: purgeAfter,
        update_time: now,
      });
      await this.d.sync.enqueueLeaveCircles(tx, me);
      await this.#accessChanged(tx, after);
    });
    return purgeAfter;
  }

  /** Oldest first. The page token remembers the filters it was issued for. */
  async listUsers(filter: ProfileFilter, pageSize: number, pageToken: string): Promise<{ profiles: ProfileView[]; next: string }> {
    const f: ProfileFilter = { ...filter, ...(filter.handlePrefix ? { handlePrefix: normalizeHandle(filter.handlePrefix) } : {}) };
    const key = [f.state ?? '', f.role ?? '', f.handlePrefix ?? ''].join('|');
    const size = pageSizeOf(pageSize, DEFAULT_PAGE_SIZE);
    const token = this.d.pages.users.decode(pageToken, key);
    const rows = await profileStore.list(this.d.db.db, f, token ? { time: token.t, id: token.id } : undefined, size + 1);
    const { items, next } = this.d.pages.users.page(rows, size, (r) => ({ t: r.create_time, id: r.id }), key);
    return { profiles: items.map(viewOf), next };
  }

  /** Replaces the roles (ROLE_USER implied). Never leaves the platform without an active admin. */
  async setUserRoles(caller: Caller, change: AdminChange & { roles: readonly RoleName[] }): Promise<ProfileView> {
    const roles = normalizeRoles(change.roles);
    const row = await this.d.db.transaction(async (tx) => {
      await profileStore.lockAdmins(tx);
      const current = await this.#lockTarget(tx, change);
      if (sameRoles(current.roles, roles)) return current;
      if (current.roles.includes('admin') && !roles.includes('admin') && (await profileStore.countActiveAdmins(tx, current.id)) === 0) {
        throw new ConnectError('this would remove the last admin; make someone else admin first', Code.FailedPrecondition);
      }
      const now = this.d.now();
      const after = await profileStore.update(tx, current.id, { roles, update_time: now });
      await auditStore.insert(tx, {
        actor: actorOf(caller),
        action: 'roles.set',
        target: current.id,
        reason: change.reason,
        details: { from: current.roles, to: roles },
        now,
      });
      await this.#accessChanged(tx, after);
      return after;
    });
    return viewOf(row);
  }

  /** Suspends or reinstates. Suspending a moderator or admin takes an admin. */
  async setAccountState(caller: Caller, change: AdminChange & { state: Exclude<AccountState, 'deleted'> }): Promise<ProfileView> {
    if (caller.kind === 'user' && caller.identity.userId === change.userId) {
      throw new ConnectError('you cannot change your own account state', Code.FailedPrecondition);
    }
    const row = await this.d.db.transaction(async (tx) => {
      const current = await this.#lockTarget(tx, change);
      const staffTarget = current.roles.includes('moderator') || current.roles.includes('admin');
      const callerIsAdmin = caller.kind === 'user' && hasAnyRole(caller.identity, ['admin']);
      if (staffTarget && !callerIsAdmin) {
        throw new ConnectError('only admins may change the state of a moderator or admin', Code.PermissionDenied);
      }
      if (current.state === change.state) return current;
      const now = this.d.now();
      const after = await profileStore.update(tx, current.id, { state: change.state, update_time: now });
      await auditStore.insert(tx, {
        actor: actorOf(caller),
        action: 'state.set',
        target: current.id,
        reason: change.reason,
        details: { from: current.state, to: change.state },
        now,
      });
      await this.#accessChanged(tx, after);
      return after;
    });
    return viewOf(row);
  }

  /** The target of an admin change, locked, existing, not deleted and at the expected version. */
  async #lockTarget(tx: Tx<UsersTables>, change: AdminChange): Promise<ProfileRow> {
    const current = await profileStore.findById(tx, change.userId, { forUpdate: true });
    if (!current) throw userNotFound();
    if (current.state === 'deleted') throw new ConnectError('the account is deleted', Code.FailedPrecondition);
    assertVersion('profile', current.version, BigInt(change.version));
    return current;
  }

  /** Roles or state changed: AuthService must learn it (queued, and tried at once), caches too. */
  async #accessChanged(tx: Tx<UsersTables>, after: ProfileRow): Promise<void> {
    await this.d.sync.enqueueAccess(tx, after.id);
    tx.onCommit(async () => {
      await this.d.bus.publish(accountTopic, { userId: after.id, state: after.state, roles: after.roles });
      await this.d.sync.syncAccessNow(after.id);
    });
  }
}
