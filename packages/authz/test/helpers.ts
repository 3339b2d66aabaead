import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import { type Database, createDatabase } from '@hearth/db';
import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';

export const ISSUER = 'hearth-test';
export const AUDIENCE = 'hearth-api-test';

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

export async function makeKey(alg: 'EdDSA' | 'ES256' | 'RS256', kid = `k-${randomUUID()}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/** A JWKS served by a real HTTP server on a free port, counting every request it answers. */
export interface JwksServer {
  readonly url: URL;
  /** GET requests received so far. */
  requests: number;
  keys: JWK[];
  /** When set, answers 500 instead of the key set. */
  failing: boolean;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly TestKey[]): Promise<JwksServer> {
  const state = { requests: 0, keys: keys.map((k) => k.jwk), failing: false };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (state.failing || req.url !== '/.well-known/jwks.json') {
      res.writeHead(state.failing ? 500 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}

export interface TokenOptions {
  /** Claims to add or replace; `undefined` removes a claim. */
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
}

/** Valid claims for a fresh 15-minute token; ids are new UUIDs unless given. */
export function claimsFor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: randomUUID(),
    sid: randomUUID(),
    roles: ['user'],
    iat: now,
    nbf: now,
    exp: now + 900,
    jti: randomUUID(),
    ...overrides,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

export async function signToken(key: TestKey, opts: TokenOptions = {}): Promise<string> {
  return new SignJWT(claimsFor(opts.claims))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...opts.header })
    .sign(key.privateKey);
}

export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A service's Database: its search_path is the service's own schema, not `authz`. */
export function dbAt(url: string): Database<unknown> {
  return createDatabase({
    url,
    schema: 'svc',
    poolMax: 4,
    connectionTimeoutMs: 1_000,
    idleTimeoutMs: 1_000,
    statementTimeoutMs: 5_000,
    applicationName: 'authz-test',
  });
}

/** An assert.rejects predicate: a ConnectError with this code and exact message. */
export function refusedWith(code: Code, message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, `${Code[err.code]}: ${err.rawMessage}`);
    assert.equal(err.rawMessage, message);
    return true;
  };
}
