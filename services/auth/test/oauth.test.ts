import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { FlowIntent, IdentityProvider, TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { AccountState } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { ConfigError, loadServiceConfig } from '@hearth/config';
import { freePort } from '@hearth/testkit';
import { authConfigSpec } from '../src/config.js';
import { type TestAuth, STRONG_PASSWORD, asService, bearer, newUser, profileJobs, refusal, startAuth } from './helpers.js';
import { type TestPerson, type TestProvider, startOidcProvider } from './oidc-provider.js';

const REDIRECT = 'https://app.example.org/oauth/callback';
const GOOGLE = IdentityProvider.GOOGLE;

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const stateHash = (state: string) => createHash('sha256').update(state).digest();

async function failureReasons(t: TestAuth): Promise<string[]> {
  const rows = await t.db.db.selectFrom('audit_events').select('detail').where('type', '=', 'oauth_failed').execute();
  return rows.map((r) => String(r.detail.reason));
}

describe('OAuth sign-in and linking against a real OpenID provider', () => {
  let op: TestProvider;
  let t: TestAuth;

  beforeAll(async () => {
    op = await startOidcProvider({ redirectUris: [REDIRECT] });
    // Apple points at a port nothing listens on: the provider-down case.
    const deadPort = await freePort();
    t = await startAuth({
      env: {
        HEARTH_AUTH_GOOGLE_ISSUER: op.issuer,
        HEARTH_AUTH_GOOGLE_CLIENT_ID: op.clientId,
        HEARTH_AUTH_GOOGLE_CLIENT_SECRET: op.clientSecret,
        HEARTH_AUTH_APPLE_ISSUER: `http://127.0.0.1:${deadPort}`,
        HEARTH_AUTH_APPLE_CLIENT_ID: 'apple-client',
        HEARTH_AUTH_APPLE_CLIENT_SECRET: 'apple-secret',
        HEARTH_AUTH_OAUTH_REDIRECT_URIS: `${REDIRECT},org.hearth.app:/oauth`,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await op?.close();
  });

  function person(overrides: Partial<TestPerson> = {}): TestPerson {
    const sub = overrides.sub ?? `sub-${randomUUID()}`;
    const p: TestPerson = { sub, email: `${sub}@Mail.Example.com`, email_verified: true, name: 'Ada Lovelace', ...overrides };
    op.people.set(sub, p);
    return p;
  }

  /** StartOAuth, then the browser part at the provider; returns what the app would hold. */
  async function authorize(who: TestPerson, opts: { intent?: FlowIntent; accessToken?: string } = {}) {
    const { verifier, challenge } = pkce();
    const started = await t.client.startOAuth(
      { provider: GOOGLE, intent: opts.intent ?? FlowIntent.SIGN_IN, redirectUri: REDIRECT, codeChallenge: challenge },
      opts.accessToken ? bearer(opts.accessToken) : {},
    );
    const back = await op.signIn(started.authorizationUrl, who.sub, REDIRECT);
    assert.equal(back.searchParams.get('state'), started.state, 'the provider echoes the state');
    return { verifier, state: started.state, code: back.searchParams.get('code') ?? '', started };
  }

  function finishRequest(a: { verifier: string; state: string; code: string }) {
    return {
      provider: GOOGLE,
      code: a.code,
      state: a.state,
      redirectUri: REDIRECT,
      codeVerifier: a.verifier,
      deviceName: 'test browser',
      tokenDelivery: TokenDelivery.BODY,
    };
  }

  function linkRequest(a: { verifier: string; state: string; code: string }) {
    return { provider: GOOGLE, code: a.code, state: a.state, redirectUri: REDIRECT, codeVerifier: a.verifier };
  }

  it('signs in through the provider, creates the account once, then reuses it', async () => {
    const who = person();
    const first = await authorize(who);
    const url = new URL(first.started.authorizationUrl);
    assert.equal(url.origin, op.issuer);
    assert.equal(url.searchParams.get('client_id'), op.clientId);
    assert.equal(url.searchParams.get('redirect_uri'), REDIRECT);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(url.searchParams.get('nonce'));
    assert.match(url.searchParams.get('scope') ?? '', /^openid email /);
    const expiresIn = first.started.expireTime!.seconds - BigInt(Math.floor(Date.now() / 1000));
    assert.ok(expiresIn > 590n && expiresIn <= 600n, `flow expires in 10 minutes, got ${expiresIn}s`);

    const created = await t.client.finishOAuth(finishRequest(first));
    assert.equal(created.accountCreated, true);
    const tokens = created.tokens!;
    assert.ok(tokens.accessToken && tokens.refreshToken);

    // The state is stored only as its hash; the flow is used up.
    const flow = await t.db.db.selectFrom('oauth_flows').selectAll().where('state_hash', '=', stateHash(first.state)).executeTakeFirstOrThrow();
    assert.ok(flow.used_at);
    assert.equal(flow.nonce, url.searchParams.get('nonce'));
    assert.ok(!JSON.stringify(flow).includes(first.state), 'the state itself is not stored');
    const account = await t.db.db.selectFrom('accounts').selectAll().where('id', '=', tokens.userId).executeTakeFirstOrThrow();
    assert.equal(account.email, who.email!.toLowerCase());
    assert.equal(account.password_hash, null);
    const jobs = (await profileJobs(t)).filter((j) => j.payload.userId === tokens.userId);
    assert.equal(jobs.length, 1);
    assert.match(jobs[0]!.payload.handle, /^ada_lovelace_[a-z0-9]{6}$/);
    assert.equal(jobs[0]!.payload.displayName, 'Ada Lovelace');

    // The access token works, and the identity is listed.
    const listed = await t.client.listLinkedIdentities({}, bearer(tokens.accessToken));
    assert.equal(listed.hasPassword, false);
    assert.equal(listed.identities.length, 1);
    assert.equal(listed.identities[0]?.provider, GOOGLE);
    assert.equal(listed.identities[0]?.email, who.email);
    assert.ok(listed.identities[0]?.lastUseTime);

    const again = await t.client.finishOAuth(finishRequest(await authorize(who)));
    assert.equal(again.accountCreated, false);
    assert.equal(again.tokens?.userId, tokens.userId);
    assert.notEqual(again.tokens?.sessionId, tokens.sessionId);
    assert.equal((await profileJobs(t)).filter((j) => j.payload.userId === tokens.userId).length, 1, 'only the first sign-in creates a profile');
    const sessions = await t.client.listSessions({}, bearer(again.tokens!.accessToken));
    assert.equal(sessions.sessions.length, 2);

    const audit = await t.db.db.selectFrom('audit_events').select(['type', 'detail']).where('user_id', '=', tokens.userId).orderBy('at').execute();
    assert.deepEqual(
      audit.map((a) => a.type),
      ['oauth_register', 'oauth_login_ok'],
    );
    assert.ok(audit.every((a) => !JSON.stringify(a.detail).includes('@')), 'no emails in audit detail');
  });

  it('delivers the tokens as cookies when asked', async () => {
    const setCookies: string[] = [];
    const res = await t.client.finishOAuth(
      { ...finishRequest(await authorize(person())), tokenDelivery: TokenDelivery.COOKIE },
      { onHeader: (h) => setCookies.push(...h.getSetCookie()) },
    );
    assert.equal(res.tokens?.accessToken, '');
    assert.equal(res.tokens?.refreshToken, '');
    assert.ok(res.tokens?.sessionId);
    assert.deepEqual(
      setCookies.map((c) => c.slice(0, c.indexOf('='))).sort(),
      ['__Host-hearth_access', '__Host-hearth_csrf', '__Secure-hearth_refresh'],
    );
  });

  it('refuses an unknown state, and a state started for another intent', async () => {
    const a = await authorize(person());
    const unknown = await refusal(t.client.finishOAuth({ ...finishRequest(a), state: randomBytes(32).toString('base64url') }));
    assert.equal(unknown.code, Code.FailedPrecondition);
    const wrongRedirect = await refusal(t.client.finishOAuth({ ...finishRequest(a), redirectUri: 'org.hearth.app:/oauth' }));
    assert.equal(wrongRedirect.code, Code.FailedPrecondition);
    const wrongProvider = await refusal(t.client.finishOAuth({ ...finishRequest(a), provider: IdentityProvider.APPLE }));
    // Apple is configured but down: the provider is asked before the flow is touched.
    assert.equal(wrongProvider.code, Code.Unavailable);
    // None of those used the flow up: the real finish still works.
    assert.equal((await t.client.finishOAuth(finishRequest(a))).accountCreated, true);

    const { accessToken } = (await t.client.register(newUser())).tokens!;
    const link = await authorize(person(), { intent: FlowIntent.LINK, accessToken });
    const asSignIn = await refusal(t.client.finishOAuth(finishRequest(link)));
    assert.equal(asSignIn.code, Code.FailedPrecondition);
  });

  it("refuses a code redeemed with another flow's state", async () => {
    const a = await authorize(person());
    const b = await authorize(person());
    // B's state and verifier with A's code: the provider bound A's code to A's challenge.
    const err = await refusal(t.client.finishOAuth({ ...finishRequest(b), code: a.code }));
    assert.equal(err.code, Code.Unauthenticated);
    assert.ok((await failureReasons(t)).includes('invalid_grant'));
  });

  it('refuses an ID token whose nonce is not the flow nonce', async () => {
    const a = await authorize(person());
    await t.db.db.updateTable('oauth_flows').set({ nonce: 'not-the-nonce-the-provider-signed' }).where('state_hash', '=', stateHash(a.state)).execute();
    const err = await refusal(t.client.finishOAuth(finishRequest(a)));
    assert.equal(err.code, Code.Unauthenticated);
    assert.ok((await failureReasons(t)).includes('OAUTH_JWT_CLAIM_COMPARISON_FAILED'), 'the nonce failure is audited');
  });

  it('refuses a wrong code verifier, and the flow is then used up', async () => {
    const a = await authorize(person());
    const wrong = await refusal(t.client.finishOAuth({ ...finishRequest(a), codeVerifier: pkce().verifier }));
    assert.equal(wrong.code, Code.Unauthenticated);
    assert.ok((await failureReasons(t)).includes('pkce_mismatch'));
    const retry = await refusal(t.client.finishOAuth(finishRequest(a)));
    assert.equal(retry.code, Code.FailedPrecondition);
  });

  it('refuses a replayed state', async () => {
    const a = await authorize(person());
    await t.client.finishOAuth(finishRequest(a));
    const replay = await refusal(t.client.finishOAuth(finishRequest(a)));
    assert.equal(replay.code, Code.FailedPrecondition);
  });

  it('refuses an expired flow', async () => {
    const a = await authorize(person());
    await t.db.db.updateTable('oauth_flows').set({ expires_at: new Date(Date.now() - 1000) }).where('state_hash', '=', stateHash(a.state)).execute();
    const err = await refusal(t.client.finishOAuth(finishRequest(a)));
    assert.equal(err.code, Code.FailedPrecondition);
  });

  it('links an identity to a password account, which can then sign in with it', async () => {
    const user = newUser();
    const { accessToken, userId } = (await t.client.register(user)).tokens!;
    const anonymous = await refusal(t.client.startOAuth({ provider: GOOGLE, intent: FlowIntent.LINK, redirectUri: REDIRECT, codeChallenge: pkce().challenge }));
    assert.equal(anonymous.code, Code.Unauthenticated);

    const who = person({ email: `other-${randomUUID()}@mail.example.com` });
    const a = await authorize(who, { intent: FlowIntent.LINK, accessToken });
    // Another user cannot finish this user's LINK flow.
    const stranger = (await t.client.register(newUser())).tokens!;
    const stolen = await refusal(t.client.linkOAuth(linkRequest(a), bearer(stranger.accessToken)));
    assert.equal(stolen.code, Code.FailedPrecondition);

    const linked = await t.client.linkOAuth(linkRequest(a), bearer(accessToken));
    assert.equal(linked.identity?.provider, GOOGLE);
    assert.equal(linked.identity?.email, who.email);
    assert.equal(linked.identity?.lastUseTime, undefined);
    const listed = await t.client.listLinkedIdentities({}, bearer(accessToken));
    assert.equal(listed.hasPassword, true);
    assert.equal(listed.identities.length, 1);

    // Linking the same identity again is idempotent.
    const again = await t.client.linkOAuth(linkRequest(await authorize(who, { intent: FlowIntent.LINK, accessToken })), bearer(accessToken));
    assert.equal(again.identity?.createTime?.seconds, linked.identity?.createTime?.seconds);

    const signIn = await t.client.finishOAuth(finishRequest(await authorize(who)));
    assert.equal(signIn.accountCreated, false);
    assert.equal(signIn.tokens?.userId, userId);
    const types = await t.db.db.selectFrom('audit_events').select('type').where('user_id', '=', userId).execute();
    assert.ok(types.some((e) => e.type === 'identity_linked'));
    assert.ok(types.some((e) => e.type === 'oauth_login_ok'));
  });

  it('refuses to link an identity linked elsewhere, or a second identity of one provider', async () => {
    const taken = person();
    await t.client.finishOAuth(finishRequest(await authorize(taken)));
    const { accessToken } = (await t.client.register(newUser())).tokens!;
    const elsewhere = await refusal(t.client.linkOAuth(linkRequest(await authorize(taken, { intent: FlowIntent.LINK, accessToken })), bearer(accessToken)));
    assert.equal(elsewhere.code, Code.AlreadyExists);

    await t.client.linkOAuth(linkRequest(await authorize(person(), { intent: FlowIntent.LINK, accessToken })), bearer(accessToken));
    const second = await refusal(t.client.linkOAuth(linkRequest(await authorize(person(), { intent: FlowIntent.LINK, accessToken })), bearer(accessToken)));
    assert.equal(second.code, Code.AlreadyExists);
  });

  it("does not link on email: a new identity with an existing account's verified email is refused", async () => {
    const user = newUser();
    await t.client.register(user);
    const who = person({ email: user.email.toUpperCase() });
    const err = await refusal(t.client.finishOAuth(finishRequest(await authorize(who))));
    assert.equal(err.code, Code.FailedPrecondition);
    const identity = await t.db.db.selectFrom('identities').select('id').where('subject', '=', who.sub).executeTakeFirst();
    assert.equal(identity, undefined);

    const unverified = person({ email_verified: false });
    const noEmail = await refusal(t.client.finishOAuth(finishRequest(await authorize(unverified))));
    assert.equal(noEmail.code, Code.FailedPrecondition);
  });

  it('never unlinks the last way to sign in', async () => {
    const who = person();
    const { accessToken } = (await t.client.finishOAuth(finishRequest(await authorize(who)))).tokens!;
    const last = await refusal(t.client.unlinkOAuth({ provider: GOOGLE }, bearer(accessToken)));
    assert.equal(last.code, Code.FailedPrecondition);
    await t.client.changePassword({ currentPassword: '', newPassword: STRONG_PASSWORD }, bearer(accessToken));
    await t.client.unlinkOAuth({ provider: GOOGLE }, bearer(accessToken));
    const listed = await t.client.listLinkedIdentities({}, bearer(accessToken));
    assert.deepEqual(listed.identities, []);
    assert.equal(listed.hasPassword, true);
    const gone = await refusal(t.client.unlinkOAuth({ provider: GOOGLE }, bearer(accessToken)));
    assert.equal(gone.code, Code.NotFound);
    // The account now signs in with its email and password.
    const login = await t.client.login({ email: who.email!, password: STRONG_PASSWORD, tokenDelivery: TokenDelivery.BODY });
    assert.ok(login.tokens?.accessToken);
  });

  it('refuses a suspended account', async () => {
    const who = person();
    const { userId } = (await t.client.finishOAuth(finishRequest(await authorize(who)))).tokens!;
    await t.db.db.updateTable('accounts').set({ state: 'suspended' }).where('id', '=', userId).execute();
    const err = await refusal(t.client.finishOAuth(finishRequest(await authorize(who))));
    assert.equal(err.code, Code.PermissionDenied);
  });

  it('follows SetAccountAccess: refused while suspended, and a deleted account keeps no identity', async () => {
    const svc = await asService('user');
    const who = person();
    const first = (await t.client.finishOAuth(finishRequest(await authorize(who)))).tokens!;
    const suspended = await t.client.setAccountAccess({ userId: first.userId, roles: [], state: AccountState.SUSPENDED }, svc);
    assert.equal(suspended.revokedSessionCount, 1);
    assert.equal((await refusal(t.client.finishOAuth(finishRequest(await authorize(who))))).code, Code.PermissionDenied);
    await t.client.setAccountAccess({ userId: first.userId, roles: [], state: AccountState.ACTIVE }, svc);
    const back = await t.client.finishOAuth(finishRequest(await authorize(who)));
    assert.equal(back.tokens?.userId, first.userId);

    await t.client.setAccountAccess({ userId: first.userId, roles: [], state: AccountState.DELETED }, svc);
    const rows = await t.db.db.selectFrom('identities').select('id').where('subject', '=', who.sub).execute();
    assert.equal(rows.length, 0);
    // Nothing links the person to the deleted account any more: signing in again starts afresh.
    const fresh = await t.client.finishOAuth(finishRequest(await authorize(who)));
    assert.equal(fresh.accountCreated, true);
    assert.notEqual(fresh.tokens?.userId, first.userId);
  });

  it('refuses a redirect URI outside the allow-list', async () => {
    const err = await refusal(
      t.client.startOAuth({ provider: GOOGLE, intent: FlowIntent.SIGN_IN, redirectUri: 'https://evil.example.org/cb', codeChallenge: pkce().challenge }),
    );
    assert.equal(err.code, Code.InvalidArgument);
    // A prefix or a trailing slash is not a match either.
    const near = await refusal(
      t.client.startOAuth({ provider: GOOGLE, intent: FlowIntent.SIGN_IN, redirectUri: `${REDIRECT}/`, codeChallenge: pkce().challenge }),
    );
    assert.equal(near.code, Code.InvalidArgument);
  });

  it('answers Unavailable when the provider cannot be reached', async () => {
    const err = await refusal(
      t.client.startOAuth({ provider: IdentityProvider.APPLE, intent: FlowIntent.SIGN_IN, redirectUri: REDIRECT, codeChallenge: pkce().challenge }),
    );
    assert.equal(err.code, Code.Unavailable);
  });
});

describe('OAuth without configured providers', () => {
  let t: TestAuth;
  beforeAll(async () => {
    t = await startAuth({ env: { HEARTH_AUTH_OAUTH_REDIRECT_URIS: REDIRECT } });
  });
  afterAll(() => t?.close());

  it('StartOAuth and FinishOAuth answer FailedPrecondition', async () => {
    const start = await refusal(t.client.startOAuth({ provider: GOOGLE, intent: FlowIntent.SIGN_IN, redirectUri: REDIRECT, codeChallenge: pkce().challenge }));
    assert.equal(start.code, Code.FailedPrecondition);
    const finish = await refusal(
      t.client.finishOAuth({
        provider: IdentityProvider.APPLE,
        code: 'code',
        state: 'state',
        redirectUri: REDIRECT,
        codeVerifier: pkce().verifier,
        tokenDelivery: TokenDelivery.BODY,
      }),
    );
    assert.equal(finish.code, Code.FailedPrecondition);
  });
});

describe('OAuth configuration', () => {
  const base = { DATABASE_URL: 'postgres://127.0.0.1/x', HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  const problems = (env: Record<string, string>) => {
    try {
      loadServiceConfig('auth', authConfigSpec, { ...base, ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
      throw err;
    }
    return [];
  };

  it('takes Google and Apple defaults, and plain http only on loopback', () => {
    const config = loadServiceConfig('auth', authConfigSpec, base);
    assert.equal(config.service.oauth.google.issuer, 'https://accounts.google.com');
    assert.equal(config.service.oauth.apple.issuer, 'https://appleid.apple.com');
    assert.deepEqual(config.service.oauth.redirectUris, []);
    assert.deepEqual(problems({ HEARTH_AUTH_GOOGLE_ISSUER: 'http://127.0.0.1:9999' }), []);
    assert.deepEqual(problems({ HEARTH_AUTH_GOOGLE_ISSUER: 'http://[::1]:9999' }), []);
    assert.deepEqual(problems({ HEARTH_AUTH_GOOGLE_ISSUER: 'http://accounts.example.com' }), ['HEARTH_AUTH_GOOGLE_ISSUER']);
  });

  it('wants redirect URIs in normal form, without query or fragment', () => {
    assert.deepEqual(problems({ HEARTH_AUTH_OAUTH_REDIRECT_URIS: `${REDIRECT}, org.hearth.app:/oauth` }), []);
    for (const bad of ['https://app.example.org', `${REDIRECT}?a=1`, `${REDIRECT}#x`, 'not a url', 'HTTPS://app.example.org/cb']) {
      assert.deepEqual(problems({ HEARTH_AUTH_OAUTH_REDIRECT_URIS: bad }), ['HEARTH_AUTH_OAUTH_REDIRECT_URIS'], bad);
    }
  });
});
