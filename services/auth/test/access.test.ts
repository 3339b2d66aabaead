import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, type ContextValues, type Interceptor, createClient, createRouterTransport } from '@connectrpc/connect';
import { identityKey, serviceIdentityKey } from '@hearth/authz';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { type TestAuth, STRONG_PASSWORD, asService, bearer, newUser, refusal, startAuth } from './helpers.js';

const { ACTIVE, SUSPENDED, DELETED } = AccountState;

describe('internal RPCs: SetAccountAccess and RevokeUserSessions', () => {
  let t: TestAuth;
  let svc: { headers: Record<string, string> };
  beforeAll(async () => {
    t = await startAuth();
    svc = await asService('user');
  });
  afterAll(() => t?.close());

  const login = async (email: string) =>
    (await t.client.login({ email, password: STRONG_PASSWORD, deviceName: 'phone', tokenDelivery: TokenDelivery.BODY })).tokens!;
  const refresh = (refreshToken: string) => t.client.refresh({ refreshToken, tokenDelivery: TokenDelivery.BODY });
  const setAccess = (userId: string, roles: Role[], state: AccountState) => t.client.setAccountAccess({ userId, roles, state }, svc);
  const account = (id: string) => t.db.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const events = (userId: string, type: string) =>
    t.db.db.selectFrom('audit_events').select('detail').where('user_id', '=', userId).where('type', '=', type).orderBy('id').execute();

  it('an added role reaches the next refreshed token and ends no session', async () => {
    const a = (await t.client.register(newUser())).tokens!;
    assert.deepEqual(decodeJwt(a.accessToken).roles, ['user']);
    const res = await setAccess(a.userId, [Role.MODERATOR], ACTIVE);
    assert.equal(res.revokedSessionCount, 0);
    assert.deepEqual((await account(a.userId)).roles, ['user', 'moderator']);
    await t.client.listSessions({}, bearer(a.accessToken)); // the session goes on
    const next = (await refresh(a.refreshToken)).tokens!;
    assert.equal(next.sessionId, a.sessionId);
    assert.deepEqual(decodeJwt(next.accessToken).roles, ['user', 'moderator']);
    const [changed] = await events(a.userId, 'account_access_changed');
    assert.deepEqual(changed?.detail, {
      by: 'user',
      from: { roles: ['user'], state: 'active' },
      to: { roles: ['user', 'moderator'], state: 'active' },
      revokedSessionCount: 0,
    });
  });

  it('a removed role ends every session at once: the old access token and refresh token are refused', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    await setAccess(a.userId, [Role.USER, Role.MODERATOR, Role.ADMIN], ACTIVE);
    const b = await login(user.email);
    assert.deepEqual(decodeJwt(b.accessToken).roles, ['user', 'moderator', 'admin']);

    const res = await setAccess(a.userId, [Role.MODERATOR], ACTIVE);
    assert.equal(res.revokedSessionCount, 2);
    for (const s of [a, b]) {
      assert.equal(await t.denyList.isRevoked(s.sessionId), true);
      assert.equal((await refusal(t.client.listSessions({}, bearer(s.accessToken)))).code, Code.Unauthenticated);
      assert.equal((await refusal(refresh(s.refreshToken))).code, Code.Unauthenticated);
    }
    const sessions = await t.db.db.selectFrom('sessions').select('revoke_reason').where('user_id', '=', a.userId).execute();
    assert.deepEqual(sessions.map((s) => s.revoke_reason), ['role_removed', 'role_removed']);
    // Signing in again gives a token with what is left.
    assert.deepEqual(decodeJwt((await login(user.email)).accessToken).roles, ['user', 'moderator']);
  });

  it('is idempotent: the same values again write nothing and end no session', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    assert.equal((await setAccess(a.userId, [Role.MODERATOR], ACTIVE)).revokedSessionCount, 0);
    const before = await account(a.userId);
    // ROLE_USER is implied, so listing it or not is the same set.
    assert.equal((await setAccess(a.userId, [Role.USER, Role.MODERATOR], ACTIVE)).revokedSessionCount, 0);
    assert.equal((await setAccess(a.userId, [Role.MODERATOR], ACTIVE)).revokedSessionCount, 0);
    assert.deepEqual(await account(a.userId), before);
    assert.equal((await events(a.userId, 'account_access_changed')).length, 1);
    await t.client.listSessions({}, bearer(a.accessToken));

    assert.equal((await setAccess(a.userId, [], SUSPENDED)).revokedSessionCount, 1);
    assert.equal((await setAccess(a.userId, [], SUSPENDED)).revokedSessionCount, 0);
    assert.equal((await events(a.userId, 'account_access_changed')).length, 2);
    assert.equal((await events(a.userId, 'account_suspended')).length, 1);
  });

  it('SUSPENDED ends every session and refuses sign-in and refresh until ACTIVE again', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const b = await login(user.email);
    const res = await setAccess(a.userId, [], SUSPENDED);
    assert.equal(res.revokedSessionCount, 2);
    assert.equal((await account(a.userId)).state, 'suspended');
    for (const s of [a, b]) {
      assert.equal(await t.denyList.isRevoked(s.sessionId), true);
      assert.equal((await refusal(t.client.listSessions({}, bearer(s.accessToken)))).code, Code.Unauthenticated);
      assert.equal((await refusal(refresh(s.refreshToken))).code, Code.Unauthenticated);
    }
    assert.equal((await refusal(login(user.email))).code, Code.PermissionDenied);
    // Register of the same email and password is a Login, refused alike.
    assert.equal((await refusal(t.client.register({ ...user, idempotencyKey: 'retry-key-suspended' }))).code, Code.PermissionDenied);

    assert.equal((await setAccess(a.userId, [], ACTIVE)).revokedSessionCount, 0);
    const back = await login(user.email);
    assert.equal(back.userId, a.userId);
  });

  it('DELETED ends every session, unlinks identities and erases email and password; it is final', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const now = new Date();
    await t.db.db
      .insertInto('identities')
      .values([
        { id: randomUUID(), account_id: a.userId, provider: 'google', subject: `g-${a.userId}`, email: user.email, created_at: now, last_used_at: null },
        { id: randomUUID(), account_id: a.userId, provider: 'apple', subject: `a-${a.userId}`, email: null, created_at: now, last_used_at: null },
      ])
      .execute();

    const res = await setAccess(a.userId, [Role.MODERATOR], DELETED);
    assert.equal(res.revokedSessionCount, 1);
    const row = await account(a.userId);
    assert.equal(row.state, 'deleted');
    assert.equal(row.email, `deleted:${a.userId}`);
    assert.equal(row.password_hash, null);
    assert.ok(row.deleted_at);
    assert.equal(JSON.stringify(row).includes(user.email.toLowerCase()), false, 'the email is kept nowhere on the row');
    assert.equal((await t.db.db.selectFrom('identities').select('id').where('account_id', '=', a.userId).execute()).length, 0);
    assert.equal(await t.denyList.isRevoked(a.sessionId), true);
    assert.equal((await refusal(refresh(a.refreshToken))).code, Code.Unauthenticated);
    assert.equal((await refusal(login(user.email))).code, Code.Unauthenticated);
    const [changed] = await events(a.userId, 'account_access_changed');
    assert.deepEqual(changed?.detail.unlinkedProviders, ['apple', 'google']);
    assert.equal(changed?.detail.credentialsErased, true);
    assert.equal(JSON.stringify(await t.db.db.selectFrom('audit_events').select('detail').where('user_id', '=', a.userId).execute()).includes('@'), false);

    // Final: the same state again is a no-op, another one is refused.
    assert.equal((await setAccess(a.userId, [], DELETED)).revokedSessionCount, 0);
    for (const state of [ACTIVE, SUSPENDED]) assert.equal((await refusal(setAccess(a.userId, [], state))).code, Code.FailedPrecondition);
    assert.equal((await account(a.userId)).state, 'deleted');
    // The address is free: registering it again makes a new account.
    const again = (await t.client.register({ ...user, idempotencyKey: 'after-delete-key' })).tokens!;
    assert.notEqual(again.userId, a.userId);
  });

  it('the schema refuses a deleted account that still holds credentials', async () => {
    const { userId } = (await t.client.register(newUser())).tokens!;
    const err = await t.db.db.updateTable('accounts').set({ state: 'deleted', deleted_at: new Date() }).where('id', '=', userId).execute().catch((e: unknown) => e);
    assert.match(String((err as Error).message), /accounts_deleted_erased/);
  });

  it('NotFound for an unknown account', async () => {
    assert.equal((await refusal(setAccess(randomUUID(), [], SUSPENDED))).code, Code.NotFound);
  });

  it('a sign-in racing a suspension either is ended by it or sees it', async () => {
    const user = newUser();
    const { userId } = (await t.client.register(user)).tokens!;
    // Hold the account row as SetAccountAccess does, let Login reach its share lock, then suspend.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const holder = t.db.db.transaction().execute(async (trx) => {
      await trx.selectFrom('accounts').select('id').where('id', '=', userId).forUpdate().execute();
      await released;
      await trx.updateTable('accounts').set({ state: 'suspended' }).where('id', '=', userId).execute();
    });
    const attempt = login(user.email).then(
      () => assert.fail('the sign-in must not succeed'),
      (err: unknown) => err,
    );
    await waitForLockWaiter(t);
    release();
    await holder;
    const err = await attempt;
    assert.match(String(err), /permission_denied/);
    const live = await t.db.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
    assert.equal(live.length, 1, 'only the session Register started, none from the refused Login');
  });

  it('RevokeUserSessions ends every session of the user; again, or for nobody, ends none', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const b = await login(user.email);
    const other = (await t.client.register(newUser())).tokens!;
    assert.equal((await t.client.revokeUserSessions({ userId: a.userId }, svc)).revokedSessionCount, 2);
    for (const s of [a, b]) {
      assert.equal(await t.denyList.isRevoked(s.sessionId), true);
      assert.equal((await refusal(t.client.listSessions({}, bearer(s.accessToken)))).code, Code.Unauthenticated);
      assert.equal((await refusal(refresh(s.refreshToken))).code, Code.Unauthenticated);
    }
    await t.client.listSessions({}, bearer(other.accessToken));
    assert.equal((await t.client.revokeUserSessions({ userId: a.userId }, svc)).revokedSessionCount, 0);
    assert.equal((await t.client.revokeUserSessions({ userId: randomUUID() }, svc)).revokedSessionCount, 0);
    const [revoked] = await events(a.userId, 'user_sessions_revoked');
    assert.equal(revoked?.detail.by, 'user');
    assert.deepEqual(new Set(revoked?.detail.revokedSessionIds as string[]), new Set([a.sessionId, b.sessionId]));
    // The account itself is untouched: signing in works.
    await login(user.email);
  });

  it('refuses users, admins included, and bad service tokens', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    await setAccess(a.userId, [Role.ADMIN], ACTIVE);
    const admin = (await refresh(a.refreshToken)).tokens!;
    assert.deepEqual(decodeJwt(admin.accessToken).roles, ['user', 'admin']);
    for (const token of [a.accessToken, admin.accessToken]) {
      assert.equal((await refusal(t.client.setAccountAccess({ userId: a.userId, roles: [], state: SUSPENDED }, bearer(token)))).code, Code.PermissionDenied);
      assert.equal((await refusal(t.client.revokeUserSessions({ userId: a.userId }, bearer(token)))).code, Code.PermissionDenied);
    }
    const forged = await asService('user', 'another-secret-that-is-long-enough-000');
    assert.equal((await refusal(t.client.revokeUserSessions({ userId: a.userId }, forged))).code, Code.Unauthenticated);
    assert.equal((await refusal(t.client.revokeUserSessions({ userId: a.userId }))).code, Code.Unauthenticated);
    assert.equal((await account(a.userId)).state, 'active');
    await t.client.listSessions({}, bearer(admin.accessToken));
  });

  it('the service layer refuses a user by itself, without the rule table in front', async () => {
    const { userId, sessionId } = (await t.client.register(newUser())).tokens!;
    // The handlers alone, with the caller set as authentication would set it.
    const clientAs = (set: (v: ContextValues) => void) => {
      const callerIs: Interceptor = (next) => (req) => {
        set(req.contextValues);
        return next(req);
      };
      return createClient(AuthService, createRouterTransport((r) => t.app.routes(r), { router: { interceptors: [callerIs] } }));
    };
    const admin = clientAs((v) => v.set(identityKey, { userId, sessionId, roles: ['user', 'moderator', 'admin'] }));
    assert.equal((await refusal(admin.revokeUserSessions({ userId }))).code, Code.PermissionDenied);
    assert.equal((await refusal(admin.setAccountAccess({ userId, roles: [], state: SUSPENDED }))).code, Code.PermissionDenied);
    assert.equal((await refusal(clientAs(() => undefined).revokeUserSessions({ userId }))).code, Code.Unauthenticated);
    assert.equal(await t.denyList.isRevoked(sessionId), false);
    const service = clientAs((v) => v.set(serviceIdentityKey, { service: 'user' }));
    assert.equal((await service.revokeUserSessions({ userId })).revokedSessionCount, 1);
  });
});

/** Resolves once some statement in the test database is waiting for a row lock. */
async function waitForLockWaiter(t: TestAuth): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
       where not l.granted and a.datname = current_database()`.execute(t.db.db);
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail('the sign-in never waited for the account row');
}

describe('a revocation is in force when its call returns, whichever of two concurrent calls gets the account first', () => {
  let t: TestAuth;
  beforeAll(async () => {
    t = await startAuth();
  });
  afterAll(() => t?.close());

  it('a second SetAccountAccess does not return while the first is still putting the sessions on the deny-list', async () => {
    for (const state of [SUSPENDED, DELETED]) {
      const { tokens } = await t.client.register(newUser());
      const token = tokens?.accessToken ?? '';
      const userId = tokens?.userId ?? '';
      const call = async () => t.client.setAccountAccess({ userId, roles: [], state }, await asService());
      // Nobody may write the deny-list's record until we say so: the first call's revocation
      // commits, and its deny-list write (after commit) waits.
      const lock = new (await import('pg')).default.Client({ connectionString: t.system.database.url });
      await lock.connect();
      await lock.query('begin');
      await lock.query('lock table authz.revoked_sessions in share mode');
      const first = call();
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from sessions where user_id = ${userId} and revoked_at is not null`.execute(t.db.db);
        if ((rows[0]?.n ?? 0) > 0) break;
        assert.ok(Date.now() < deadline, 'the first call never committed');
        await new Promise((r) => setTimeout(r, 10));
      }
      let secondReturned = false;
      const second = call().then((r) => {
        secondReturned = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      // Returning now would tell the user service "done" while the token still works.
      assert.equal(secondReturned, false, `${AccountState[state]}: the second call returned before the sessions were denied`);
      await lock.query('commit');
      await lock.end();
      await Promise.all([first, second]);
      assert.equal((await refusal(t.client.listSessions({}, bearer(token)))).code, Code.Unauthenticated);
    }
  });
});
