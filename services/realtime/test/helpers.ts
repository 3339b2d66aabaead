import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MessageInitShape, create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { loadServiceConfig } from '@hearth/config';
import { ClientFrameSchema, type ServerError, type ServerFrame, ServerFrameSchema } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { type Host, startHost } from '@hearth/platform';
import { WebSocket } from 'ws';
import { realtimeConfigSpec, realtimeService } from '../src/index.js';

export const SUBPROTOCOL = 'hearth.realtime.v1';
const ISSUER = 'hearth-realtime-test';
const AUDIENCE = 'hearth-realtime-test-api';

export interface Peer {
  readonly ws: WebSocket;
  /** Frames received and not yet taken by `next`. */
  readonly frames: ServerFrame[];
  /** Every frame ever received, in order. */
  readonly received: ServerFrame[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** True once the close event fired. */
  isClosed(): boolean;
  next(timeoutMs?: number): Promise<ServerFrame>;
}

export interface ConnectOptions {
  readonly autoPong?: boolean;
  /** Source address of the TCP connection (any of 127.0.0.0/8 on loopback). */
  readonly localAddress?: string;
  readonly headers?: Record<string, string>;
}

export function connect(url: string, opts: ConnectOptions = {}): Promise<Peer> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/realtime`, SUBPROTOCOL, {
    autoPong: opts.autoPong ?? true,
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
  });
  const frames: ServerFrame[] = [];
  const received: ServerFrame[] = [];
  const waiters: Array<(f: ServerFrame) => void> = [];
  let closedFlag = false;
  ws.on('message', (data: Buffer) => {
    const frame = fromBinary(ServerFrameSchema, data);
    received.push(frame);
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      closedFlag = true;
      resolve({ code, reason: reason.toString() });
    }),
  );
  const next = (timeoutMs = 3_000) =>
    new Promise<ServerFrame>((resolve, reject) => {
      const queued = frames.shift();
      if (queued) return resolve(queued);
      const waiter = (f: ServerFrame) => {
        clearTimeout(timer);
        resolve(f);
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(waiter);
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, received, closed, isClosed: () => closedFlag, next }));
    ws.once('error', reject);
  });
}

export function send(ws: WebSocket, frame: MessageInitShape<typeof ClientFrameSchema>['frame'], id = 1n): void {
  ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { id, frame })));
}

export function errorOf(frame: ServerFrame): ServerError {
  assert.equal(frame.frame.case, 'error', `expected an error frame, got ${frame.frame.case}`);
  return frame.frame.value;
}

/** Resolves with the close, or rejects if the socket is still open after `ms`. */
export function closedWithin(peer: Peer, ms: number): Promise<{ code: number; reason: string }> {
  return Promise.race([
    peer.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms).unref()),
  ]);
}

/** Sends a Ping and waits for its Pong: the socket is open and every earlier answer was sent. */
export async function assertOpen(peer: Peer, nonce: bigint): Promise<void> {
  send(peer.ws, { case: 'ping', value: { nonce } }, 9_999n);
  const pong = await peer.next();
  assert.equal(pong.frame.case, 'pong');
  assert.equal(pong.frame.value.nonce, nonce);
}

/** Opens a socket, sends Hello with `token` and returns it once welcomed. */
export async function welcomed(url: string, token: string, opts: ConnectOptions = {}): Promise<Peer> {
  const peer = await connect(url, opts);
  send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: token } }, 1n);
  const welcome = await peer.next();
  assert.equal(welcome.frame.case, 'welcome', welcome.frame.case === 'error' ? welcome.frame.value.message : '');
  return peer;
}

/**
 * The auth service's part, as far as the gateway sees it: a JWKS on a real HTTP server and
 * access tokens signed with its Ed25519 key. `hold` makes the JWKS answer wait, which keeps a
 * fresh gateway's first Hellos in authentication for as long as a test needs (under the
 * verifier's 2 s fetch timeout).
 */
export interface TokenIssuer {
  readonly jwksUrl: string;
  token(claims?: { userId?: string; sessionId?: string }): string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startTokenIssuer(): Promise<TokenIssuer> {
  // node:crypto signs EdDSA natively; the compact JWT around the signature is two base64url parts.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `realtime-test-${randomUUID()}`;
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] });
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const server: Server = createServer((_req, res) => {
    void gate.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    token({ userId = randomUUID(), sessionId = randomUUID() } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: ISSUER, aud: AUDIENCE, sub: userId, sid: sessionId, roles: ['user'], iat: now, nbf: now, exp: now + 900, jti: randomUUID() };
      const input = `${b64({ alg: 'EdDSA', kid, typ: 'JWT' })}.${b64(claims)}`;
      return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      open();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        open();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * A real realtime host on a free port, verifying tokens against `issuer` (or nothing). The one
 * place these tests wire a host, so a change of the host's API is made here alone.
 */
export function startGateway(databaseUrl: string, env: Record<string, string>, issuer?: TokenIssuer): Promise<Host> {
  const config = loadServiceConfig('realtime', realtimeConfigSpec, {
    // The gateway owns no schema; it reads the session deny-list's record (schema authz).
    DATABASE_URL: databaseUrl,
    // Without an issuer the auth service is unreachable: no token can be verified.
    HEARTH_AUTH_JWKS_URL: issuer?.jwksUrl ?? 'http://127.0.0.1:9/.well-known/jwks.json',
    HEARTH_AUTH_ISSUER: ISSUER,
    HEARTH_AUTH_AUDIENCE: AUDIENCE,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    ...env,
  });
  return startHost({ name: 'realtime', config, services: [{ name: 'realtime', create: (runtime) => realtimeService.create(config, runtime) }] });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
