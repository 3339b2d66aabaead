import { Code, ConnectError } from '@connectrpc/connect';
import { exportSPKI } from 'jose';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { AUTH_ERROR, type TokenVerifier, createTokenVerifier } from '../src/index.js';
import {
  AUDIENCE,
  ISSUER,
  type JwksServer,
  type TestKey,
  b64url,
  claimsFor,
  makeKey,
  signToken,
  sleep,
  startJwksServer,
} from './helpers.js';

function refusedWith(code: Code, message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    assert.equal(err.code, code, `code ${Code[err.code]}: ${err.rawMessage}`);
    assert.equal(err.rawMessage, message);
    return true;
  };
}
const invalid = refusedWith(Code.Unauthenticated, AUTH_ERROR.invalid);

let ed: TestKey;
let es: TestKey;
let rsa: TestKey;
let jwks: JwksServer;
let verifier: TokenVerifier;

beforeAll(async () => {
  [ed, es, rsa] = await Promise.all([makeKey('EdDSA'), makeKey('ES256'), makeKey('RS256')]);
  // The RSA key is published on purpose: RS256 tokens must fail on the algorithm allow-list,
  // not merely for want of a key.
  jwks = await startJwksServer([ed, es, rsa]);
  verifier = createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE });
});
afterAll(() => jwks.close());

describe('createTokenVerifier: valid tokens', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    it(`accepts an ${alg} token and returns identity, claims and expiry`, async () => {
      const claims = claimsFor({ roles: ['user', 'moderator'] });
      const token = await signToken(alg === 'EdDSA' ? ed : es, { claims });
      const v = await verifier.verify(token);
      assert.deepEqual(v.identity, { userId: claims.sub, sessionId: claims.sid, roles: ['user', 'moderator'] });
      assert.equal(v.claims.jti, claims.jti);
      assert.equal(v.claims.aud, AUDIENCE);
      assert.equal(v.expiresAt.getTime(), (claims.exp as number) * 1000);
    });
  }

  it('drops unknown and repeated roles (never grants more than it knows)', async () => {
    const v = await verifier.verify(await signToken(ed, { claims: { roles: ['user', 'superuser', 'user', 'admin'] } }));
    assert.deepEqual(v.identity.roles, ['user', 'admin']);
  });

  it('accepts exp and nbf within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    await verifier.verify(await signToken(ed, { claims: { exp: now - 2 } }));
    await verifier.verify(await signToken(ed, { claims: { nbf: now + 3 } }));
  });
});

describe('createTokenVerifier: the attack suite (all Unauthenticated, none telling which check failed)', () => {
  it('alg none', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT', kid: ed.kid })}.${b64url(claimsFor())}.`;
    await assert.rejects(verifier.verify(token), invalid);
  });

  it('HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const secrets = [await exportSPKI(ed.publicKey), await exportSPKI(es.publicKey), JSON.stringify(ed.jwk), String(ed.jwk.x)];
    for (const secret of secrets) {
      for (const kid of [ed.kid, es.kid]) {
        const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid })}.${b64url(claimsFor())}`;
        const mac = createHmac('sha256', secret).update(input).digest('base64url');
        await assert.rejects(verifier.verify(`${input}.${mac}`), invalid);
      }
    }
  });

  it('RS256, even with its key in the JWKS', async () => {
    await assert.rejects(verifier.verify(await signToken(rsa)), invalid);
  });

  it('expired beyond the tolerance (and says so, so clients refresh)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken(ed, { claims: { iat: now - 1000, nbf: now - 1000, exp: now - 60 } });
    await assert.rejects(verifier.verify(token), refusedWith(Code.Unauthenticated, AUTH_ERROR.expired));
  });

  it('not yet valid: nbf beyond the tolerance', async () => {
    await assert.rejects(verifier.verify(await signToken(ed, { claims: { nbf: Math.floor(Date.now() / 1000) + 60 } })), invalid);
  });

  it('wrong issuer', async () => {
    await assert.rejects(verifier.verify(await signToken(ed, { claims: { iss: 'https://evil.example' } })), invalid);
  });

  it('wrong audience', async () => {
    await assert.rejects(verifier.verify(await signToken(ed, { claims: { aud: 'another-api' } })), invalid);
  });

  it('unknown kid', async () => {
    const stranger = await makeKey('EdDSA');
    await assert.rejects(verifier.verify(await signToken(stranger)), invalid);
  });

  it('a known kid with a signature from another key', async () => {
    const stranger = await makeKey('EdDSA', ed.kid);
    await assert.rejects(verifier.verify(await signToken(stranger)), invalid);
  });

  it('tampered payload: a claim flipped, the signature kept', async () => {
    const [header, , signature] = (await signToken(ed)).split('.');
    const forged = `${header}.${b64url(claimsFor({ roles: ['admin'] }))}.${signature}`;
    await assert.rejects(verifier.verify(forged), invalid);
  });

  const malformed: [string, Record<string, unknown>][] = [
    ['missing sub', { sub: undefined }],
    ['missing sid', { sid: undefined }],
    ['missing jti', { jti: undefined }],
    ['missing exp', { exp: undefined }],
    ['missing nbf', { nbf: undefined }],
    ['missing iat', { iat: undefined }],
    ['sub not a UUID', { sub: 'admin' }],
    ['sid not a UUID', { sid: 42 }],
    ['sid in upper case', { sid: randomUUID().toUpperCase() }],
    ['roles missing', { roles: undefined }],
    ['roles not an array', { roles: 'admin' }],
    ['roles with a non-string', { roles: ['user', { admin: true }] }],
    ['exp not a number', { exp: 'tomorrow' }],
  ];
  for (const [what, claims] of malformed) {
    it(`signed but malformed: ${what}`, async () => {
      await assert.rejects(verifier.verify(await signToken(ed, { claims })), invalid);
    });
  }

  it('garbage, empty and oversized strings', async () => {
    for (const token of ['', 'abc', 'a.b.c', `${b64url({ alg: 'EdDSA' })}.x.y`, 'x'.repeat(10_000)]) {
      await assert.rejects(verifier.verify(token), invalid);
    }
  });
});

describe('createTokenVerifier: the remote JWKS', () => {
  it('resolves a lazy URL once, on first use', async () => {
    let calls = 0;
    const lazy = createTokenVerifier({
      jwksUrl: () => {
        calls++;
        return jwks.url;
      },
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    assert.equal(calls, 0);
    await lazy.verify(await signToken(ed));
    await lazy.verify(await signToken(es));
    assert.equal(calls, 1);
  });

  it('refetches once for a key added after rotation, and not again within the cooldown for random kids', async () => {
    const first = await makeKey('EdDSA');
    const server = await startJwksServer([first]);
    try {
      // The cooldown is jose's, on the wall clock: long enough that the 50 refusals below fit in
      // it even on a loaded machine (they take well under a second alone).
      const v = createTokenVerifier({ jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE, cooldownMs: 4_000 });
      await v.verify(await signToken(first));
      await v.verify(await signToken(first));
      assert.equal(server.requests, 1, 'keys are cached');

      const rotated = await makeKey('ES256');
      server.keys.push(rotated.jwk);
      const early = await signToken(rotated);
      await assert.rejects(v.verify(early), invalid, 'within the cooldown the new kid is not fetched yet');
      assert.equal(server.requests, 1);

      await sleep(4_100);
      await v.verify(early);
      assert.equal(server.requests, 2, 'exactly one refetch found the rotated key');

      const stranger = await makeKey('EdDSA');
      const flood = await Promise.all(Array.from({ length: 50 }, () => signToken(stranger, { header: { kid: randomUUID() } })));
      for (const token of flood) await assert.rejects(v.verify(token), invalid);
      assert.equal(server.requests, 2, 'random kids did not reach the JWKS endpoint within the cooldown');
    } finally {
      await server.close();
    }
  });

  it('answers Unavailable (not Unauthenticated) when the JWKS is down, and backs off between attempts', async () => {
    const server = await startJwksServer([ed]);
    try {
      server.failing = true;
      const v = createTokenVerifier({ jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE, failureBackoffMs: 1_000 });
      const token = await signToken(ed);
      const unavailable = refusedWith(Code.Unavailable, AUTH_ERROR.unavailable);
      for (let i = 0; i < 20; i++) await assert.rejects(v.verify(token), unavailable);
      assert.equal(server.requests, 1, 'one failed fetch, then backoff');

      server.failing = false;
      await sleep(1_100);
      await v.verify(token);
      assert.equal(server.requests, 2);
    } finally {
      await server.close();
    }
  });

  it('does not fetch the JWKS for tokens refused on their header (alg none, HS256)', async () => {
    const server = await startJwksServer([ed]);
    try {
      const v = createTokenVerifier({ jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE });
      const none = `${b64url({ alg: 'none' })}.${b64url(claimsFor())}.`;
      const input = `${b64url({ alg: 'HS256', kid: ed.kid })}.${b64url(claimsFor())}`;
      const hs = `${input}.${createHmac('sha256', 'k').update(input).digest('base64url')}`;
      await assert.rejects(v.verify(none), invalid);
      await assert.rejects(v.verify(hs), invalid);
      assert.equal(server.requests, 0);
    } finally {
      await server.close();
    }
  });
});

describe('createTokenVerifier: the cache of verified tokens', () => {
  it('checks a signature once: a repeat does not reach the key set, a token with another key never hits', async () => {
    const server = await startJwksServer([ed]);
    try {
      let clock = Date.now();
      const v = createTokenVerifier({ jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE, now: () => clock });
      const claims = claimsFor();
      const token = await signToken(ed, { claims });
      const first = await v.verify(token);
      server.failing = true;
      for (let i = 0; i < 100; i++) assert.deepEqual(await v.verify(token), first, 'from the cache, with the key set down');
      // Every flipped character of a cached token is a different token: verified in full (and refused).
      for (let i = 0; i < token.length; i += 7) {
        const c = token[i] === 'A' ? 'B' : 'A';
        await assert.rejects(v.verify(token.slice(0, i) + c + token.slice(i + 1)));
      }
      clock = ((claims.exp as number) + 6) * 1000;
      await assert.rejects(v.verify(token), refusedWith(Code.Unauthenticated, AUTH_ERROR.expired), 'a cached token still expires');
    } finally {
      await server.close();
    }
  });

  it('keeps only tokens that verified, so made-up tokens cannot fill it', async () => {
    const v = createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, cacheSize: 4 });
    const good = await signToken(ed);
    await v.verify(good);
    for (let i = 0; i < 50; i++) await assert.rejects(v.verify(await signToken(ed, { claims: { iss: 'someone-else' } })));
    jwks.failing = true;
    try {
      await v.verify(good);
    } finally {
      jwks.failing = false;
    }
  });
});
