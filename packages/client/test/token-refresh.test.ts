// The SDK's session handling against the real auth service: tokens from sign-in are kept and
// sent, an expired access token is refreshed and the call retried once, concurrent calls share
// one Refresh (a refresh token is single-use; presenting it twice ends the session), and a
// session the server ended clears the store.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { SEED_PASSWORD, type TestSystem, startTestSystem } from '@hearth/testkit/system';
import { randomUUID } from 'node:crypto';
import { type HearthClient, type SessionTokens, TokenStore, createHearthClient } from '../src/index.js';

/** The auth service's access token lifetime (HEARTH_AUTH_ACCESS_TTL_SEC's default). */
const ACCESS_TTL_MS = 900 * 1000;

/** A Register request for a new person. */
function newUser() {
  const id = randomUUID().slice(0, 8);
  return {
    email: `person.${id}@example.org`,
    password: SEED_PASSWORD,
    handle: `person_${id}`,
    displayName: 'Person',
    deviceName: 'test device',
    tokenDelivery: TokenDelivery.BODY,
    idempotencyKey: `key-${randomUUID()}`,
  };
}

describe('TokenStore + sessionAuth against the auth service', () => {
  let server: TestSystem<'auth' | 'user'>;
  /** The auth service's clock is `Date.now() + offset`; moving it mints tokens in the past. */
  let offset = 0;
  const advance = (ms: number) => {
    offset += ms;
  };
  /** How far back the service clock goes so that the access tokens it mints have expired. */
  let behindMs: number;
  /** Every RPC that left the SDK, in order, Refresh included. */
  let sent: string[];
  const record: Interceptor = (next) => async (req) => {
    sent.push(req.method.name);
    return next(req);
  };

  /** Runs `fn` with the service clock put back, so the access tokens minted meanwhile arrive expired. */
  async function mintingExpired<T>(fn: () => Promise<T>): Promise<T> {
    advance(-behindMs);
    try {
      return await fn();
    } finally {
      advance(behindMs);
    }
  }

  beforeAll(async () => {
    server = await startTestSystem({ services: ['auth', 'user'], overrides: { auth: { now: () => new Date(Date.now() + offset) } } });
    behindMs = ACCESS_TTL_MS + 120_000;
    // A token minted in the past is signed by a key made for that time. Make it now, before
    // anything has been verified, so the verifier's first JWKS fetch already holds it.
    await mintingExpired(() => server.auth.register(newUser()));
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    sent = [];
  });

  function sdk(store: TokenStore): HearthClient {
    return createHearthClient({ baseUrl: server.url, tokens: store, interceptors: [record] });
  }

  /** Registers through the SDK; the access token the store gets has already expired. */
  function signUpExpired(client: HearthClient): Promise<unknown> {
    return mintingExpired(() => client.auth.register(newUser()));
  }

  const count = (name: string) => sent.filter((n) => n === name).length;

  it('keeps the tokens of a sign-in, sends the access token, and forgets them at Logout', async () => {
    const changes: Array<SessionTokens | undefined> = [];
    const store = new TokenStore({ onChange: (t) => changes.push(t) });
    const client = sdk(store);
    await client.auth.register(newUser());
    assert.ok(store.tokens?.accessToken);
    assert.ok(store.tokens.accessExpireTime instanceof Date);
    const { sessions } = await client.auth.listSessions({});
    assert.equal(sessions.filter((s) => s.current).length, 1);
    await client.auth.logout({});
    assert.equal(store.tokens, undefined);
    assert.deepEqual(
      changes.map((t) => t === undefined),
      [false, true],
    );
    assert.deepEqual(sent, ['Register', 'ListSessions', 'Logout']);
  });

  it('refreshes when a call is refused as "token expired", and retries it once', async () => {
    const store = new TokenStore();
    const client = sdk(store);
    await signUpExpired(client);
    const before = store.tokens;
    assert.ok(before);
    const { sessions } = await client.auth.listSessions({});
    assert.equal(sessions.length, 1);
    assert.deepEqual(sent, ['Register', 'ListSessions', 'Refresh', 'ListSessions']);
    assert.notEqual(store.tokens?.refreshToken, before.refreshToken);
    assert.notEqual(store.tokens?.accessToken, before.accessToken);
  });

  it('sends one Refresh for many concurrent calls, and the session survives', async () => {
    let saved = 0;
    const store = new TokenStore({ onChange: () => saved++ });
    const client = sdk(store);
    await signUpExpired(client);
    const results = await Promise.all(Array.from({ length: 8 }, () => client.auth.listSessions({})));
    assert.equal(results.length, 8);
    assert.equal(count('Refresh'), 1);
    assert.equal(saved, 2, 'the sign-in and the one refresh');
    // Had two Refreshes presented the same token, reuse detection would have revoked the session.
    assert.equal((await client.auth.listSessions({})).sessions.length, 1);
    assert.equal(count('Refresh'), 1);
  });

  it('refreshes shortly before the access token expires, without waiting to be refused', async () => {
    let deviceNow = Date.now();
    const store = new TokenStore({ now: () => deviceNow, refreshBeforeMs: 60_000 });
    const client = sdk(store);
    await client.auth.register(newUser());
    await client.auth.listSessions({});
    assert.equal(count('Refresh'), 0);
    deviceNow += ACCESS_TTL_MS - 30_000;
    await client.auth.listSessions({});
    assert.deepEqual(sent, ['Register', 'ListSessions', 'Refresh', 'ListSessions']);
  });

  it('never refreshes earlier than half the lifetime, so short-lived tokens are not refreshed on every call', async () => {
    const ttlMs = ACCESS_TTL_MS;
    let deviceNow = Date.now();
    const store = new TokenStore({ now: () => deviceNow, refreshBeforeMs: 10 * ttlMs });
    const client = sdk(store);
    await client.auth.register(newUser());
    await client.auth.listSessions({});
    await client.auth.listSessions({});
    assert.equal(count('Refresh'), 0);
    deviceNow += ttlMs / 2;
    await client.auth.listSessions({});
    assert.equal(count('Refresh'), 1);
  });

  it('retries only once: a call refused again after the refresh fails', async () => {
    const store = new TokenStore();
    const client = sdk(store);
    // The server's clock stays behind throughout, so even the refreshed token is expired on arrival.
    const err = await mintingExpired(async () => {
      await client.auth.register(newUser());
      return client.auth.listSessions({}).then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => ConnectError.from(e),
      );
    });
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, 'token expired');
    assert.deepEqual(sent, ['Register', 'ListSessions', 'Refresh', 'ListSessions']);
    assert.ok(store.tokens, 'an expired access token does not end the session');
  });

  it('a refresh token presented twice ends the session: the second holder is signed out', async () => {
    const original = new TokenStore();
    await signUpExpired(sdk(original));
    const tokens = original.tokens;
    assert.ok(tokens);
    // A copy of the same tokens, e.g. restored from a backup on a second device.
    const changes: Array<SessionTokens | undefined> = [];
    const copy = new TokenStore({ tokens, onChange: (t) => changes.push(t) });
    await sdk(original).auth.listSessions({});
    const err = await sdk(copy)
      .auth.listSessions({})
      .then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => ConnectError.from(e),
      );
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(copy.tokens, undefined);
    assert.deepEqual(changes, [undefined]);
  });
});
