import { Code } from '@connectrpc/connect';
import { type TestDatabase, createTestDatabase } from '@hearth/testkit';
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  ACCESS_COOKIE,
  AUTH_ERROR,
  PostgresSessionDenyList,
  type SessionDenyList,
  migrateAuthz,
  type UpgradeAuthOptions,
  authenticateUpgrade,
  createTokenVerifier,
} from '../src/index.js';
import { AUDIENCE, ISSUER, type JwksServer, type TestKey, claimsFor, dbAt, makeKey, refusedWith, signToken, startJwksServer } from './helpers.js';

let key: TestKey;
let jwks: JwksServer;
let testDb: TestDatabase;
let denyList: SessionDenyList;
let closeDb: () => Promise<void>;
let opts: UpgradeAuthOptions;

beforeAll(async () => {
  key = await makeKey('ES256');
  jwks = await startJwksServer([key]);
  testDb = await createTestDatabase({ prefix: 'authz_upgrade' });
  const db = dbAt(testDb.url);
  await migrateAuthz(db);
  closeDb = () => db.destroy();
  denyList = new PostgresSessionDenyList(db);
  opts = {
    verifier: createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE }),
    denyList,
    // Configured loosely on purpose: normalised to "https://app.hearth.example".
    allowedOrigins: ['https://App.Hearth.example:443/', 'http://localhost:5173'],
  };
});
afterAll(async () => {
  await jwks.close();
  await closeDb();
  await testDb.drop();
});

describe('authenticateUpgrade', () => {
  it('accepts the Hello frame token, whatever the Origin', async () => {
    const claims = claimsFor();
    const v = await authenticateUpgrade(opts, { accessToken: await signToken(key, { claims }), headers: { origin: 'https://evil.example' } });
    assert.equal(v.identity.userId, claims.sub);
  });

  it('accepts the access cookie from an allowed Origin', async () => {
    const claims = claimsFor();
    const cookie = `${ACCESS_COOKIE}=${await signToken(key, { claims })}`;
    for (const origin of ['https://app.hearth.example', 'http://localhost:5173']) {
      const v = await authenticateUpgrade(opts, { headers: { cookie, origin } });
      assert.equal(v.identity.userId, claims.sub);
    }
  });

  it('refuses the access cookie from another Origin, or without one (cross-site WebSocket hijacking)', async () => {
    const cookie = `${ACCESS_COOKIE}=${await signToken(key)}`;
    const denied = refusedWith(Code.PermissionDenied, AUTH_ERROR.origin);
    for (const origin of ['https://evil.example', 'https://app.hearth.example.evil.example', 'http://app.hearth.example', 'null']) {
      await assert.rejects(authenticateUpgrade(opts, { headers: { cookie, origin } }), denied);
    }
    await assert.rejects(authenticateUpgrade(opts, { headers: { cookie } }), denied);
  });

  it('no token at all: Unauthenticated', async () => {
    await assert.rejects(
      authenticateUpgrade(opts, { accessToken: '', headers: { origin: 'https://app.hearth.example' } }),
      refusedWith(Code.Unauthenticated, AUTH_ERROR.required),
    );
  });

  it('an invalid Hello token: Unauthenticated', async () => {
    const stranger = await makeKey('ES256');
    await assert.rejects(
      authenticateUpgrade(opts, { accessToken: await signToken(stranger), headers: {} }),
      refusedWith(Code.Unauthenticated, AUTH_ERROR.invalid),
    );
  });

  it('a revoked session: Unauthenticated, by token and by cookie', async () => {
    const claims = claimsFor();
    const token = await signToken(key, { claims });
    await opts.denyList.revoke(String(claims.sid), new Date((claims.exp as number) * 1000));
    const revoked = refusedWith(Code.Unauthenticated, AUTH_ERROR.revoked);
    await assert.rejects(authenticateUpgrade(opts, { accessToken: token, headers: {} }), revoked);
    await assert.rejects(
      authenticateUpgrade(opts, { headers: { cookie: `${ACCESS_COOKIE}=${token}`, origin: 'https://app.hearth.example' } }),
      revoked,
    );
  });
});
