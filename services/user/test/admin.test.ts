import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { newId } from '@hearth/db';
import { auditStore } from '../src/store/audit.js';
import { PASSWORD, type Person, SESSIONS_END, type TestUsers, refusal, startUsers } from './helpers.js';

// One database for the file; only the first describe makes admins, so "the last admin" is known.
describe('roles, suspension and listing through a real server', () => {
  let t: TestUsers;
  let admin: Person;
  let mod: Person;
  beforeAll(async () => {
    t = await startUsers();
    // A real account: stepping down ends the admin's sessions, and they sign in again.
    admin = await t.account();
    await t.promote(admin, [Role.ADMIN]);
    mod = await t.person();
    await t.promote(mod, [Role.MODERATOR]);
  });
  afterAll(() => t?.close());

  const version = async (p: Person) => (await t.service.getProfiles({ userIds: [p.userId] })).profiles[p.userId]?.version ?? 0n;
  const login = (p: Person) => t.auth.login({ email: p.email, password: PASSWORD, deviceName: 'x', tokenDelivery: TokenDelivery.BODY });

  describe('SetUserRoles', () => {
    it('is for admins only', async () => {
      const u = await t.person();
      const req = { userId: u.userId, roles: [Role.MODERATOR], version: 1n, reason: 'why not' };
      assert.equal((await refusal(u.users.setUserRoles(req))).code, Code.PermissionDenied);
      assert.equal((await refusal(mod.users.setUserRoles(req))).code, Code.PermissionDenied);
    });

    it('replaces the roles, keeps ROLE_USER, writes the audit log, and reaches the next token', async () => {
      // A real account: the next token comes from Refresh, with the roles auth was given.
      const u = await t.account();
      const res = await admin.users.setUserRoles({ userId: u.userId, roles: [Role.MODERATOR], version: 1n, reason: 'trusted helper' });
      assert.deepEqual(res.profile?.roles, [Role.USER, Role.MODERATOR]);
      assert.equal(res.profile?.version, 2n);
      const [entry, ...rest] = await auditStore.forTarget(t.db.db, u.userId);
      assert.equal(rest.length, 0);
      assert.equal(entry?.actor, admin.userId);
      assert.equal(entry?.action, 'roles.set');
      assert.equal(entry?.reason, 'trusted helper');
      assert.deepEqual(entry?.details, { from: ['user'], to: ['user', 'moderator'] });
      // The old token still says "user"; after Refresh the new role works.
      assert.equal((await refusal(u.users.listUsers({}))).code, Code.PermissionDenied);
      await t.refresh(u);
      await u.users.listUsers({});
    });

    it('refuses a stale version (Aborted), an unknown user (NotFound), a deleted account (FailedPrecondition)', async () => {
      const u = await t.person();
      await admin.users.setUserRoles({ userId: u.userId, roles: [], version: 1n, reason: 'no-op' });
      await u.users.updateProfile({ version: 1n, bio: 'x' });
      const stale = await refusal(admin.users.setUserRoles({ userId: u.userId, roles: [Role.ADMIN], version: 1n, reason: 'stale' }));
      assert.equal(stale.code, Code.Aborted);
      assert.equal(stale.rawMessage, 'the profile has changed (now version 2); reload it and try again');
      assert.equal(
        (await refusal(admin.users.setUserRoles({ userId: newId(), roles: [], version: 1n, reason: 'ghost' }))).code,
        Code.NotFound,
      );
      await u.users.deleteAccount({ confirmHandle: u.handle });
      assert.equal(
        (await refusal(admin.users.setUserRoles({ userId: u.userId, roles: [Role.MODERATOR], version: await version(u), reason: 'gone' }))).code,
        Code.FailedPrecondition,
      );
      assert.equal((await refusal(admin.users.setUserRoles({ userId: u.userId, roles: [], version: 1n, reason: '' }))).code, Code.InvalidArgument);
    });

    it('never removes the last admin', async () => {
      const mine = await version(admin);
      const last = await refusal(admin.users.setUserRoles({ userId: admin.userId, roles: [Role.MODERATOR], version: mine, reason: 'step down' }));
      assert.equal(last.code, Code.FailedPrecondition);
      assert.equal(await version(admin), mine, 'nothing written');
      assert.equal((await auditStore.forTarget(t.db.db, admin.userId)).filter((e) => e.reason === 'step down').length, 0);

      const second = await t.account();
      await admin.users.setUserRoles({ userId: second.userId, roles: [Role.ADMIN], version: 1n, reason: 'co-admin' });
      await t.refresh(second);
      // Now the first admin may step down; a removed role ends their sessions at once.
      await admin.users.setUserRoles({ userId: admin.userId, roles: [Role.MODERATOR], version: mine, reason: 'step down' });
      assert.equal((await refusal(admin.users.getMe({}))).code, Code.Unauthenticated, SESSIONS_END);
      const again = await login(admin);
      admin.accessToken = again.tokens?.accessToken ?? '';
      admin.refreshToken = again.tokens?.refreshToken ?? '';
      const secondVersion = await version(second);
      assert.equal(
        (await refusal(second.users.setUserRoles({ userId: second.userId, roles: [], version: secondVersion, reason: 'leave' }))).code,
        Code.FailedPrecondition,
      );
      // The second admin restores the first, so later tests have their admin back (an added
      // role ends no session, so the refresh below works).
      await second.users.setUserRoles({ userId: admin.userId, roles: [Role.MODERATOR, Role.ADMIN], version: await version(admin), reason: 'back' });
      await t.refresh(admin);
    });
  });

  describe('SetAccountState', () => {
    it('a moderator suspends a user: every session ends at once, sign-in is refused, it is audited; reinstating works', async () => {
      // A real account: its sessions end and sign-in is refused by the auth service.
      const u = await t.account();
      const res = await mod.users.setAccountState({ userId: u.userId, state: AccountState.SUSPENDED, version: 1n, reason: 'spam' });
      assert.equal(res.profile?.state, AccountState.SUSPENDED);
      assert.equal((await refusal(u.users.getMe({}))).code, Code.Unauthenticated, SESSIONS_END);
      assert.equal((await refusal(login(u))).code, Code.PermissionDenied);
      const [entry] = await auditStore.forTarget(t.db.db, u.userId);
      assert.deepEqual([entry?.actor, entry?.action, entry?.reason], [mod.userId, 'state.set', 'spam']);
      assert.deepEqual(entry?.details, { from: 'active', to: 'suspended' });

      await mod.users.setAccountState({ userId: u.userId, state: AccountState.ACTIVE, version: 2n, reason: 'appeal' });
      await login(u);
    });

    it('only admins suspend moderators and admins; nobody suspends themself', async () => {
      const other = await t.account();
      await t.promote(other, [Role.MODERATOR]);
      const v = await version(other);
      const req = { userId: other.userId, state: AccountState.SUSPENDED, version: v, reason: 'abuse' };
      assert.equal((await refusal(mod.users.setAccountState(req))).code, Code.PermissionDenied);
      assert.equal((await refusal(t.user.setAccountState(req, await t.asService('moderation')))).code, Code.PermissionDenied, 'nor the moderation service');
      assert.equal(
        (await refusal(mod.users.setAccountState({ userId: mod.userId, state: AccountState.SUSPENDED, version: await version(mod), reason: 'me' })))
          .code,
        Code.FailedPrecondition,
      );
      await admin.users.setAccountState(req);
      assert.equal((await refusal(other.users.getMe({}))).code, Code.Unauthenticated, SESSIONS_END);
    });

    it('refuses a plain user, a stale version, a deleted account, and DELETED as a state', async () => {
      const [u, v] = [await t.person(), await t.person()];
      const req = { userId: v.userId, state: AccountState.SUSPENDED, version: 1n, reason: 'r' };
      assert.equal((await refusal(u.users.setAccountState(req))).code, Code.PermissionDenied);
      assert.equal((await refusal(mod.users.setAccountState({ ...req, version: 7n }))).code, Code.Aborted);
      assert.equal((await refusal(mod.users.setAccountState({ ...req, state: AccountState.DELETED }))).code, Code.InvalidArgument);
      await v.users.deleteAccount({ confirmHandle: v.handle });
      assert.equal((await refusal(mod.users.setAccountState({ ...req, version: await version(v) }))).code, Code.FailedPrecondition);
    });
  });

  describe('ListUsers', () => {
    it('is for staff; lists oldest first with filters; a page token only works with its own filters', async () => {
      const tag = `lu${Date.now().toString(36)}`;
      const people = [await t.person(`${tag}_a`), await t.person(`${tag}_b`), await t.person(`${tag}_c`)];
      assert.equal((await refusal(people[0]?.users.listUsers({}) ?? Promise.resolve())).code, Code.PermissionDenied);

      const p1 = await mod.users.listUsers({ handlePrefix: tag.toUpperCase(), pageSize: 2 });
      assert.deepEqual(
        p1.profiles.map((p) => p.handle),
        [`${tag}_a`, `${tag}_b`],
      );
      const p2 = await mod.users.listUsers({ handlePrefix: tag, pageSize: 2, pageToken: p1.nextPageToken });
      assert.deepEqual(
        p2.profiles.map((p) => p.handle),
        [`${tag}_c`],
      );
      assert.equal(p2.nextPageToken, '');
      assert.equal(
        (await refusal(mod.users.listUsers({ handlePrefix: `${tag}_a`, pageSize: 2, pageToken: p1.nextPageToken }))).code,
        Code.InvalidArgument,
      );
      assert.equal((await refusal(mod.users.listUsers({ pageToken: p1.nextPageToken }))).code, Code.InvalidArgument);
      // "_" is a handle character here, not a wildcard.
      assert.deepEqual((await mod.users.listUsers({ handlePrefix: `${tag}_` })).profiles.length, 3);
      assert.deepEqual((await mod.users.listUsers({ handlePrefix: `${tag.slice(0, -1)}_` })).profiles.length, 0);

      const mods = await admin.users.listUsers({ role: Role.MODERATOR, pageSize: 100 });
      assert.ok(mods.profiles.some((p) => p.id === mod.userId));
      assert.ok(mods.profiles.every((p) => p.roles.includes(Role.MODERATOR)));
      const times = mods.profiles.map((p) => Number(p.createTime?.seconds ?? 0n));
      assert.deepEqual(times, [...times].sort((x, y) => x - y), 'oldest first');

      await mod.users.setAccountState({ userId: people[1]?.userId ?? '', state: AccountState.SUSPENDED, version: 1n, reason: 'list test' });
      const suspended = await mod.users.listUsers({ state: AccountState.SUSPENDED, handlePrefix: tag });
      assert.deepEqual(
        suspended.profiles.map((p) => p.handle),
        [`${tag}_b`],
      );
      assert.equal((await refusal(mod.users.listUsers({ handlePrefix: 'bad-prefix' }))).code, Code.InvalidArgument);
    });
  });
});
