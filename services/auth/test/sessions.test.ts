import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { type TestAuth, STRONG_PASSWORD, bearer, newUser, profileJobs, refusal, startAuth } from './helpers.js';

describe('auth sessions: logout, revocation, password change, idempotency, profile job, audit', () => {
  let t: TestAuth;
  beforeAll(async () => {
    t = await startAuth();
  });
  afterAll(() => t?.close());

  const login = async (email: string, password = STRONG_PASSWORD) =>
    (await t.client.login({ email, password, deviceName: 'phone', tokenDelivery: TokenDelivery.BODY })).tokens!;

  const auditTypes = async (userId: string) =>
    (await t.db.db.selectFrom('audit_events').select('type').where('user_id', '=', userId).orderBy('id').execute()).map((e) => e.type);

  it('Logout ends the current session at once: refresh fails and the access token is denied', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const b = await login(user.email);
    await t.client.logout({}, bearer(a.accessToken));
    assert.equal(await t.denyList.isRevoked(a.sessionId), true);
    assert.equal((await refusal(t.client.refresh({ refreshToken: a.refreshToken, tokenDelivery: TokenDelivery.BODY }))).code, Code.Unauthenticated);
    assert.equal((await refusal(t.client.listSessions({}, bearer(a.accessToken)))).code, Code.Unauthenticated);
    // The other session is untouched, and logging out again is fine (idempotent, by refresh token).
    assert.equal((await t.client.listSessions({}, bearer(b.accessToken))).sessions.length, 1);
    await t.client.logout({ refreshToken: a.refreshToken });
    assert.deepEqual(await auditTypes(a.userId), ['register', 'login_ok', 'logout']);
  });

  it('Logout with only a refresh token (expired access token) ends that session', async () => {
    const { sessionId, refreshToken } = (await t.client.register(newUser())).tokens!;
    await t.client.logout({ refreshToken });
    assert.equal(await t.denyList.isRevoked(sessionId), true);
    assert.equal((await refusal(t.client.logout({ refreshToken: 'B'.repeat(43) }))).code, Code.Unauthenticated);
    assert.equal((await refusal(t.client.logout({}))).code, Code.Unauthenticated);
  });

  it('LogoutAll ends every session, or every other one', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const b = await login(user.email);
    const c = await login(user.email);
    const kept = await t.client.logoutAll({ keepCurrentSession: true }, bearer(a.accessToken));
    assert.equal(kept.revokedSessionCount, 2);
    assert.equal(await t.denyList.isRevoked(b.sessionId), true);
    assert.equal(await t.denyList.isRevoked(c.sessionId), true);
    assert.equal(await t.denyList.isRevoked(a.sessionId), false);
    const all = await t.client.logoutAll({ keepCurrentSession: false }, bearer(a.accessToken));
    assert.equal(all.revokedSessionCount, 1);
    assert.equal(await t.denyList.isRevoked(a.sessionId), true);
    assert.ok((await auditTypes(a.userId)).filter((x) => x === 'logout_all').length === 2);
  });

  it('ListSessions pages through the live sessions with a cursor', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    for (let i = 0; i < 4; i++) await login(user.email);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await t.client.listSessions({ pageSize: 2, pageToken }, bearer(a.accessToken));
      assert.ok(page.sessions.length <= 2);
      seen.push(...page.sessions.map((s) => s.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    assert.equal((await refusal(t.client.listSessions({ pageToken: 'not-a-cursor!' }, bearer(a.accessToken)))).code, Code.InvalidArgument);
  });

  it('RevokeSession ends one own session; another user\'s session is NotFound', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const b = await login(user.email);
    const other = (await t.client.register(newUser())).tokens!;
    const err = await refusal(t.client.revokeSession({ sessionId: other.sessionId }, bearer(a.accessToken)));
    assert.equal(err.code, Code.NotFound);
    assert.equal(await t.denyList.isRevoked(other.sessionId), false);
    await t.client.revokeSession({ sessionId: b.sessionId }, bearer(a.accessToken));
    await t.client.revokeSession({ sessionId: b.sessionId }, bearer(a.accessToken)); // idempotent
    assert.equal(await t.denyList.isRevoked(b.sessionId), true);
    assert.equal((await refusal(t.client.refresh({ refreshToken: b.refreshToken, tokenDelivery: TokenDelivery.BODY }))).code, Code.Unauthenticated);
    assert.ok((await auditTypes(a.userId)).includes('session_revoked'));
  });

  it('ChangePassword needs the current password and ends every other session', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    const b = await login(user.email);
    const newPassword = 'quartz meadow pilot ember 77';
    const wrong = await refusal(t.client.changePassword({ currentPassword: 'not my password at all', newPassword }, bearer(a.accessToken)));
    assert.equal(wrong.code, Code.PermissionDenied);
    const weak = await refusal(t.client.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: 'password1234' }, bearer(a.accessToken)));
    assert.equal(weak.code, Code.InvalidArgument);
    const res = await t.client.changePassword({ currentPassword: STRONG_PASSWORD, newPassword }, bearer(a.accessToken));
    assert.equal(res.revokedSessionCount, 1);
    assert.equal(await t.denyList.isRevoked(b.sessionId), true);
    assert.equal(await t.denyList.isRevoked(a.sessionId), false);
    await t.client.listSessions({}, bearer(a.accessToken)); // the current session continues
    assert.equal((await refusal(t.client.login({ email: user.email, password: STRONG_PASSWORD, tokenDelivery: TokenDelivery.BODY }))).code, Code.Unauthenticated);
    await login(user.email, newPassword);
    assert.ok((await auditTypes(a.userId)).includes('password_changed'));
  });

  it('a Register retry (lost response) signs in to the same account with a new session', async () => {
    const user = newUser();
    const first = (await t.client.register(user)).tokens!;
    const retry = (await t.client.register({ ...user, idempotencyKey: 'another-key-123' })).tokens!;
    assert.equal(retry.userId, first.userId);
    assert.notEqual(retry.sessionId, first.sessionId);
    assert.notEqual(retry.refreshToken, first.refreshToken);
    const accounts = await t.db.db.selectFrom('accounts').select('id').where('email', '=', user.email.toLowerCase()).execute();
    assert.equal(accounts.length, 1);
    // A wrong password is a failed login, audited as one.
    const err = await refusal(t.client.register({ ...user, password: 'another long passphrase 99' }));
    assert.equal(err.code, Code.Unauthenticated);
    const failed = await t.db.db.selectFrom('audit_events').select('detail').where('user_id', '=', first.userId).where('type', '=', 'login_failed').execute();
    assert.deepEqual(failed.map((f) => f.detail), [{ reason: 'wrong_password', via: 'register' }]);
  });

  it('concurrent Registers of one email create one account', async () => {
    const user = newUser();
    const results = await Promise.allSettled([t.client.register(user), t.client.register({ ...user, idempotencyKey: 'second-key-456' })]);
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.tokens!);
    assert.equal(ok.length, 2, JSON.stringify(results.filter((r) => r.status === 'rejected')));
    assert.equal(ok[0]!.userId, ok[1]!.userId);
    assert.equal((await profileJobs(t)).filter((j) => j.payload.userId === ok[0]!.userId).length, 1);
  });

  it('Register writes the account, the create-profile job and the audit event together', async () => {
    const user = newUser();
    const { userId, sessionId } = (await t.client.register(user)).tokens!;
    const account = await t.db.db.selectFrom('accounts').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    assert.equal(account.email, user.email.toLowerCase());
    assert.match(account.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(account.roles, ['user']);
    const jobs = (await profileJobs(t)).filter((j) => j.payload.userId === userId);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.key, `create-profile:${userId}`);
    assert.deepEqual(jobs[0]!.payload, { userId, handle: user.handle, displayName: user.displayName });
    const audit = await t.db.db.selectFrom('audit_events').selectAll().where('session_id', '=', sessionId).execute();
    assert.equal(audit[0]?.type, 'register');
    assert.equal(audit[0]?.ip, '127.0.0.1');
    assert.ok(audit[0]?.request_id);
  });

  it('cookie delivery sets the three cookies, leaves tokens out of the body, and refreshes with CSRF', async () => {
    const setCookies: string[] = [];
    const res = await t.client.register(
      { ...newUser(), tokenDelivery: TokenDelivery.COOKIE },
      { onHeader: (h) => setCookies.push(...h.getSetCookie()) },
    );
    assert.equal(res.tokens?.accessToken, '');
    assert.equal(res.tokens?.refreshToken, '');
    assert.ok(res.tokens?.sessionId);
    const byName = new Map(setCookies.map((c) => [c.slice(0, c.indexOf('=')), c]));
    const access = byName.get('__Host-hearth_access')!;
    const refresh = byName.get('__Secure-hearth_refresh')!;
    const csrf = byName.get('__Host-hearth_csrf')!;
    // The cookie lives as long as the token: its expiry is in whole seconds, so a token minted
    // late in a second has 899 s left by the time the answer is written.
    assert.match(access, /; Path=\/; Max-Age=(899|900); HttpOnly; Secure; SameSite=Strict$/);
    assert.match(refresh, /; Path=\/hearth\.auth\.v1\.AuthService\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict$/);
    assert.match(csrf, /; Path=\/; Max-Age=\d+; Secure; SameSite=Strict$/);
    assert.doesNotMatch(csrf, /HttpOnly/);
    const value = (c: string) => c.slice(c.indexOf('=') + 1, c.indexOf(';'));
    const cookie = `__Secure-hearth_refresh=${value(refresh)}; __Host-hearth_csrf=${value(csrf)}`;
    const noCsrf = await refusal(t.client.refresh({ tokenDelivery: TokenDelivery.COOKIE }, { headers: { cookie } }));
    assert.equal(noCsrf.code, Code.Unauthenticated);
    const next: string[] = [];
    const refreshed = await t.client.refresh(
      { tokenDelivery: TokenDelivery.COOKIE },
      { headers: { cookie, 'x-hearth-csrf': value(csrf) }, onHeader: (h) => next.push(...h.getSetCookie()) },
    );
    assert.equal(refreshed.tokens?.sessionId, res.tokens?.sessionId);
    assert.equal(next.length, 3);
    // Logout clears them.
    const cleared: string[] = [];
    const nextRefresh = next.find((c) => c.startsWith('__Secure-hearth_refresh='))!;
    const nextCsrf = next.find((c) => c.startsWith('__Host-hearth_csrf='))!;
    await t.client.logout(
      {},
      {
        headers: { cookie: `__Secure-hearth_refresh=${value(nextRefresh)}; __Host-hearth_csrf=${value(nextCsrf)}`, 'x-hearth-csrf': value(nextCsrf) },
        onHeader: (h) => cleared.push(...h.getSetCookie()),
      },
    );
    assert.equal(cleared.length, 3);
    assert.ok(cleared.every((c) => c.includes('Max-Age=0')));
    assert.equal(await t.denyList.isRevoked(res.tokens!.sessionId), true);
  });

  it('a suspended account cannot log in (PermissionDenied) and its sessions stop refreshing', async () => {
    const user = newUser();
    const a = (await t.client.register(user)).tokens!;
    await t.db.db.updateTable('accounts').set({ state: 'suspended' }).where('id', '=', a.userId).execute();
    const login = await refusal(t.client.login({ email: user.email, password: STRONG_PASSWORD, tokenDelivery: TokenDelivery.BODY }));
    assert.equal(login.code, Code.PermissionDenied);
    const wrong = await refusal(t.client.login({ email: user.email, password: 'wrong password here', tokenDelivery: TokenDelivery.BODY }));
    assert.equal(wrong.code, Code.Unauthenticated, 'a wrong password says nothing about the account state');
    const refresh = await refusal(t.client.refresh({ refreshToken: a.refreshToken, tokenDelivery: TokenDelivery.BODY }));
    assert.equal(refresh.code, Code.Unauthenticated);
    assert.equal(await t.denyList.isRevoked(a.sessionId), true);
  });

  // Moves the service clock forward for good, so it runs last.
  it('refresh tokens slide with use, up to the absolute session lifetime', async () => {
    const { refreshToken, sessionId } = (await t.client.register(newUser())).tokens!;
    const idle = await t.client.register(newUser());
    let token = refreshToken;
    // Refreshing every 25 days keeps the session alive past the 30-day idle window...
    for (let day = 25; day < 90; day += 25) {
      t.advance(25 * 86_400_000);
      const next = (await t.client.refresh({ refreshToken: token, tokenDelivery: TokenDelivery.BODY })).tokens!;
      assert.equal(next.sessionId, sessionId);
      token = next.refreshToken;
    }
    // ...while the one left alone has expired.
    const stale = await refusal(t.client.refresh({ refreshToken: idle.tokens!.refreshToken, tokenDelivery: TokenDelivery.BODY }));
    assert.equal(stale.code, Code.Unauthenticated);
    // Day 75 + 25 = 100 > 90: the absolute lifetime ends it whatever the refreshes.
    t.advance(25 * 86_400_000);
    const capped = await refusal(t.client.refresh({ refreshToken: token, tokenDelivery: TokenDelivery.BODY }));
    assert.equal(capped.code, Code.Unauthenticated);
  });
});
