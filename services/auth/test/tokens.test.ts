import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { type TestAuth, bearer, refusal, newUser, startAuth } from './helpers.js';

describe('auth tokens: register, login, refresh, reuse detection, JWKS', () => {
  let t: TestAuth;
  beforeAll(async () => {
    t = await startAuth();
  });
  afterAll(() => t?.close());

  it('register -> login -> refresh returns a new pair of the same session', async () => {
    const user = newUser();
    const reg = await t.client.register(user);
    assert.ok(reg.tokens?.accessToken);
    assert.ok(reg.tokens.refreshToken);
    const login = await t.client.login({ email: user.email.toUpperCase(), password: user.password, tokenDelivery: TokenDelivery.BODY });
    const tokens = login.tokens!;
    assert.equal(tokens.userId, reg.tokens.userId);
    assert.notEqual(tokens.sessionId, reg.tokens.sessionId);
    const refreshed = (await t.client.refresh({ refreshToken: tokens.refreshToken, tokenDelivery: TokenDelivery.BODY })).tokens!;
    assert.equal(refreshed.sessionId, tokens.sessionId);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
    assert.notEqual(refreshed.accessToken, tokens.accessToken);
    // The new access token works on a protected RPC.
    const list = await t.client.listSessions({}, bearer(refreshed.accessToken));
    assert.equal(list.sessions.length, 2);
    assert.equal(list.sessions.filter((s) => s.current).length, 1);
    assert.equal(list.sessions.find((s) => s.current)?.id, tokens.sessionId);
  });

  it('reusing a rotated refresh token fails and revokes the whole session', async () => {
    const user = newUser();
    const first = (await t.client.register(user)).tokens!;
    const second = (await t.client.refresh({ refreshToken: first.refreshToken, tokenDelivery: TokenDelivery.BODY })).tokens!;
    const reuse = await refusal(t.client.refresh({ refreshToken: first.refreshToken, tokenDelivery: TokenDelivery.BODY }));
    assert.equal(reuse.code, Code.Unauthenticated);
    // The legitimate successor dies with the family.
    const next = await refusal(t.client.refresh({ refreshToken: second.refreshToken, tokenDelivery: TokenDelivery.BODY }));
    assert.equal(next.code, Code.Unauthenticated);
    assert.equal(await t.denyList.isRevoked(first.sessionId), true);
    const denied = await refusal(t.client.listSessions({}, bearer(second.accessToken)));
    assert.equal(denied.code, Code.Unauthenticated);
    const session = await t.db.db.selectFrom('sessions').selectAll().where('id', '=', first.sessionId).executeTakeFirstOrThrow();
    assert.equal(session.revoke_reason, 'refresh_reuse_detected');
    const events = await t.db.db.selectFrom('audit_events').select('type').where('session_id', '=', first.sessionId).execute();
    assert.ok(events.some((e) => e.type === 'refresh_reuse_detected'));
  });

  it('of two concurrent refreshes of one token exactly one succeeds', async () => {
    const { refreshToken } = (await t.client.register(newUser())).tokens!;
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => t.client.refresh({ refreshToken, tokenDelivery: TokenDelivery.BODY })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal(ConnectError.from(r.reason).code, Code.Unauthenticated);
  });

  it('an unknown refresh token is Unauthenticated', async () => {
    const err = await refusal(t.client.refresh({ refreshToken: 'A'.repeat(43), tokenDelivery: TokenDelivery.BODY }));
    assert.equal(err.code, Code.Unauthenticated);
  });

  it('refuses weak and common passwords with a helpful message', async () => {
    for (const password of ['password123', 'qwertyuiop12', 'iloveyou2024']) {
      const err = await refusal(t.client.register(newUser({ password })));
      assert.equal(err.code, Code.InvalidArgument, password);
      assert.match(err.rawMessage, /too easy to guess/);
    }
    const short = await refusal(t.client.register(newUser({ password: 'Xy7#q' })));
    assert.equal(short.code, Code.InvalidArgument);
  });

  it('login gives the same answer for an unknown email and a wrong password', async () => {
    const user = newUser();
    await t.client.register(user);
    const unknown = await refusal(t.client.login({ email: 'nobody@example.org', password: user.password, tokenDelivery: TokenDelivery.BODY }));
    const wrong = await refusal(t.client.login({ email: user.email, password: 'not the password at all', tokenDelivery: TokenDelivery.BODY }));
    assert.equal(unknown.code, Code.Unauthenticated);
    assert.equal(wrong.code, unknown.code);
    assert.equal(wrong.rawMessage, unknown.rawMessage);
    const failures = await t.db.db.selectFrom('audit_events').select(['user_id', 'detail']).where('type', '=', 'login_failed').execute();
    assert.ok(failures.some((f) => f.user_id === null));
    assert.ok(failures.some((f) => f.user_id !== null));
    assert.ok(failures.every((f) => !JSON.stringify(f.detail).includes('@')), 'no emails in audit detail');
  });

  it('Register of a taken email answers as Login would, never "email taken"', async () => {
    const user = newUser();
    await t.client.register(user);
    const unknownLogin = await refusal(t.client.login({ email: newUser().email, password: 'not the password at all', tokenDelivery: TokenDelivery.BODY }));
    const taken = await refusal(t.client.register({ ...newUser({ password: 'a different long passphrase 42' }), email: user.email.toUpperCase() }));
    assert.equal(taken.code, Code.Unauthenticated);
    assert.equal(taken.rawMessage, unknownLogin.rawMessage);
    const accounts = await t.db.db.selectFrom('accounts').select('id').where('email', '=', user.email.toLowerCase()).execute();
    assert.equal(accounts.length, 1);
  });

  it('publishes an EdDSA JWKS whose kid signs the access token, verifiable with jose', async () => {
    const { accessToken, userId, sessionId } = (await t.client.register(newUser())).tokens!;
    const res = await fetch(new URL('/.well-known/jwks.json', t.url));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    const jwks = (await res.json()) as { keys: Array<Record<string, unknown>> };
    const header = decodeProtectedHeader(accessToken);
    assert.equal(header.alg, 'EdDSA');
    const key = jwks.keys.find((k) => k.kid === header.kid);
    assert.ok(key, 'the token kid is published');
    assert.equal(key.alg, 'EdDSA');
    assert.equal(key.use, 'sig');
    assert.equal(key.d, undefined, 'no private part');
    const { payload } = await jwtVerify(accessToken, createLocalJWKSet(jwks as never), {
      issuer: t.config.auth.issuer,
      audience: t.config.auth.audience,
      algorithms: ['EdDSA'],
    });
    assert.equal(payload.sub, userId);
    assert.equal(payload.sid, sessionId);
    assert.deepEqual(payload.roles, ['user']);
    assert.equal(payload.exp! - payload.iat!, 900);
    assert.equal(payload.nbf, payload.iat);
    assert.equal(typeof payload.jti, 'string');
  });
});
