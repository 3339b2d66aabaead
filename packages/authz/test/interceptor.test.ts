import { Code, type Interceptor, createClient, createRouterTransport } from '@connectrpc/connect';
import { UserService } from '@hearth/contracts';
import type { Database } from '@hearth/db';
import { LazyRequestContext, createLogger, requestContextKey } from '@hearth/telemetry';
import { type TestDatabase, createTestDatabase, freePort } from '@hearth/testkit';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  ACCESS_COOKIE,
  AUTH_ERROR,
  CSRF_COOKIE,
  CSRF_HEADER,
  PostgresSessionDenyList,
  ReplicatedSessionDenyList,
  type SessionDenyList,
  type TokenVerifier,
  authenticationInterceptor,
  createTokenVerifier,
  identityKey,
  migrateAuthz,
  requireIdentity,
} from '../src/index.js';
import { AUDIENCE, ISSUER, type JwksServer, type TestKey, claimsFor, dbAt, makeKey, refusedWith, signToken, startJwksServer } from './helpers.js';

let key: TestKey;
let jwks: JwksServer;
let verifier: TokenVerifier;
let testDb: TestDatabase;
let db: Database<unknown>;
let lists: Record<'postgres' | 'replicated', SessionDenyList>;

beforeAll(async () => {
  key = await makeKey('EdDSA');
  jwks = await startJwksServer([key]);
  verifier = createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE });
  testDb = await createTestDatabase({ prefix: 'authz_icpt' });
  db = dbAt(testDb.url);
  await migrateAuthz(db);
  const record = new PostgresSessionDenyList(db);
  const replicated = new ReplicatedSessionDenyList({ record });
  await replicated.start();
  lists = { postgres: record, replicated };
});
afterAll(async () => {
  await jwks.close();
  (lists.replicated as ReplicatedSessionDenyList).stop();
  await db.destroy();
  await testDb.drop();
});

/** A real generated service through the router transport: GetMe needs a caller, GetProfile is public. */
function clientWith(denyList: SessionDenyList, opts: { cookies?: boolean; before?: Interceptor[] } = {}) {
  const transport = createRouterTransport(
    (router) =>
      router.service(UserService, {
        getMe(_req, ctx) {
          const me = requireIdentity(ctx);
          return { profile: { id: me.userId, displayName: `${me.sessionId}|${me.roles.join(',')}` } };
        },
        getProfile(_req, ctx) {
          return { profile: { id: ctx.values.get(identityKey)?.userId ?? 'anonymous' } };
        },
      }),
    {
      router: {
        interceptors: [
          ...(opts.before ?? []),
          authenticationInterceptor({
            verifier,
            denyList,
            isPublic: (service, method) => service === UserService.typeName && method === 'GetProfile',
            ...(opts.cookies === undefined ? {} : { cookies: opts.cookies }),
          }),
        ],
      },
    },
  );
  return createClient(UserService, transport);
}

const getProfile = { lookup: { case: 'userId' as const, value: randomUUID() } };
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const cookie = (token: string, csrf: string, header?: string) => ({
  headers: { cookie: `theme=dark; ${ACCESS_COOKIE}=${token}; ${CSRF_COOKIE}=${csrf}`, ...(header ? { [CSRF_HEADER]: header } : {}) },
});

describe('authenticationInterceptor', () => {
  it('bearer token: the identity reaches the handler', async () => {
    const claims = claimsFor({ roles: ['user', 'admin'] });
    const res = await clientWith(lists.postgres).getMe({}, bearer(await signToken(key, { claims })));
    assert.equal(res.profile?.id, claims.sub);
    assert.equal(res.profile?.displayName, `${String(claims.sid)}|user,admin`);
  });

  it('no token on a non-public method: Unauthenticated', async () => {
    await assert.rejects(clientWith(lists.postgres).getMe({}), refusedWith(Code.Unauthenticated, AUTH_ERROR.required));
  });

  it('no token on a public method: runs anonymously', async () => {
    const res = await clientWith(lists.postgres).getProfile(getProfile);
    assert.equal(res.profile?.id, 'anonymous');
  });

  it('a token on a public method counts', async () => {
    const claims = claimsFor();
    const res = await clientWith(lists.postgres).getProfile(getProfile, bearer(await signToken(key, { claims })));
    assert.equal(res.profile?.id, claims.sub);
  });

  it('an invalid bearer token is refused even on a public method (no silent downgrade)', async () => {
    const stranger = await makeKey('EdDSA');
    const client = clientWith(lists.postgres);
    const invalid = refusedWith(Code.Unauthenticated, AUTH_ERROR.invalid);
    await assert.rejects(client.getProfile(getProfile, bearer(await signToken(stranger))), invalid);
    await assert.rejects(client.getProfile(getProfile, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), invalid);
    await assert.rejects(client.getProfile(getProfile, { headers: { authorization: 'Bearer ' } }), invalid);
  });

  it('an expired bearer token says so', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken(key, { claims: { iat: now - 1000, nbf: now - 1000, exp: now - 100 } });
    await assert.rejects(clientWith(lists.postgres).getMe({}, bearer(token)), refusedWith(Code.Unauthenticated, AUTH_ERROR.expired));
  });

  for (const name of ['postgres', 'replicated'] as const) {
    it(`a revoked session is refused (${name} deny-list), other sessions are not`, async () => {
      const claims = claimsFor();
      const token = await signToken(key, { claims });
      const client = clientWith(lists[name]);
      await client.getMe({}, bearer(token));
      await lists[name].revoke(String(claims.sid), new Date((claims.exp as number) * 1000));
      await assert.rejects(client.getMe({}, bearer(token)), refusedWith(Code.Unauthenticated, AUTH_ERROR.revoked));
      await assert.rejects(client.getProfile(getProfile, bearer(token)), refusedWith(Code.Unauthenticated, AUTH_ERROR.revoked));
      await client.getMe({}, bearer(await signToken(key)));
    });
  }

  it('a deny-list that cannot answer fails closed with Unavailable', { timeout: 5_000 }, async () => {
    const dead = dbAt(`postgres://postgres@127.0.0.1:${await freePort()}/none`);
    try {
      const client = clientWith(new ReplicatedSessionDenyList({ record: new PostgresSessionDenyList(dead) }));
      await assert.rejects(client.getMe({}, bearer(await signToken(key))), refusedWith(Code.Unavailable, AUTH_ERROR.unavailable));
    } finally {
      await dead.destroy();
    }
  });

  describe('cookies (double-submit CSRF)', () => {
    const csrf = 'c5rf-token-0123456789abcdef';

    it('cookie without the CSRF header: PermissionDenied', async () => {
      const token = await signToken(key);
      await assert.rejects(clientWith(lists.postgres).getMe({}, cookie(token, csrf)), refusedWith(Code.PermissionDenied, AUTH_ERROR.csrf));
    });

    it('cookie with a CSRF header that does not match: PermissionDenied', async () => {
      const token = await signToken(key);
      const client = clientWith(lists.postgres);
      await assert.rejects(client.getMe({}, cookie(token, csrf, `${csrf}x`)), refusedWith(Code.PermissionDenied, AUTH_ERROR.csrf));
      await assert.rejects(client.getMe({}, cookie(token, '', '')), refusedWith(Code.PermissionDenied, AUTH_ERROR.csrf));
    });

    it('cookie with the matching CSRF header: authenticated', async () => {
      const claims = claimsFor();
      const res = await clientWith(lists.postgres).getMe({}, cookie(await signToken(key, { claims }), csrf, csrf));
      assert.equal(res.profile?.id, claims.sub);
    });

    it('an invalid cookie token on a non-public method: Unauthenticated', async () => {
      const stranger = await makeKey('EdDSA');
      await assert.rejects(
        clientWith(lists.postgres).getMe({}, cookie(await signToken(stranger), csrf, csrf)),
        refusedWith(Code.Unauthenticated, AUTH_ERROR.invalid),
      );
    });

    it('on a public method an unusable cookie (no CSRF, revoked) is ignored: the call runs anonymously', async () => {
      const claims = claimsFor();
      const token = await signToken(key, { claims });
      const client = clientWith(lists.postgres);
      assert.equal((await client.getProfile(getProfile, cookie(token, csrf))).profile?.id, 'anonymous');
      await lists.postgres.revoke(String(claims.sid), new Date((claims.exp as number) * 1000));
      assert.equal((await client.getProfile(getProfile, cookie(token, csrf, csrf))).profile?.id, 'anonymous');
    });

    it('cookies can be turned off', async () => {
      const token = await signToken(key);
      await assert.rejects(
        clientWith(lists.postgres, { cookies: false }).getMe({}, cookie(token, csrf, csrf)),
        refusedWith(Code.Unauthenticated, AUTH_ERROR.required),
      );
    });

    it('a bearer header takes precedence over a cookie', async () => {
      const claims = claimsFor();
      const stranger = await makeKey('EdDSA');
      const both = cookie(await signToken(stranger), csrf, csrf);
      const res = await clientWith(lists.postgres).getMe({}, { headers: { ...both.headers, authorization: `Bearer ${await signToken(key, { claims })}` } });
      assert.equal(res.profile?.id, claims.sub);
    });
  });

  it('sets the actor on the telemetry RequestContext and its logger', async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'authz-test', level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    let actorSeen: string | undefined;
    const telemetry: Interceptor = (next) => async (req) => {
      const rc = new LazyRequestContext('r1', 'r1', logger, { rpc: req.method.name });
      req.contextValues.set(requestContextKey, rc);
      const res = await next(req);
      actorSeen = req.contextValues.get(requestContextKey)?.actor;
      req.contextValues.get(requestContextKey)?.logger.info('done');
      return res;
    };
    const claims = claimsFor();
    await clientWith(lists.postgres, { before: [telemetry] }).getMe({}, bearer(await signToken(key, { claims })));
    assert.equal(actorSeen, claims.sub);
    const done = lines.map((l) => JSON.parse(l) as { msg: string; actor?: string }).find((l) => l.msg === 'done');
    assert.equal(done?.actor, claims.sub);
  });
});
