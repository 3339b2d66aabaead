// The realtime socket authenticated by the real auth service, in monolith mode: a token from
// Register opens a session (Welcome), a cookie counts only from an allowed Origin, and a socket
// closes once its session is revoked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type WholeSystem, startWholeSystem } from './helpers.js';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { ClientFrameSchema, ErrorCode, type ServerFrame, ServerFrameSchema } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { WebSocket } from 'ws';

const APP_ORIGIN = 'https://app.hearth.test';

interface Peer {
  readonly ws: WebSocket;
  next(): Promise<ServerFrame>;
  readonly closed: Promise<number>;
}

function connect(url: string, headers: Record<string, string> = {}): Promise<Peer> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/realtime`, 'hearth.realtime.v1', { headers });
  const frames: ServerFrame[] = [];
  const waiters: Array<(f: ServerFrame) => void> = [];
  ws.on('message', (data: Buffer) => {
    const frame = fromBinary(ServerFrameSchema, data);
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const next = () => new Promise<ServerFrame>((resolve) => (frames.length > 0 ? resolve(frames.shift() as ServerFrame) : waiters.push(resolve)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, next, closed }));
    ws.once('error', reject);
  });
}

function send(ws: WebSocket, frame: MessageInitShape<typeof ClientFrameSchema>['frame'], id = 1n): void {
  ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { id, frame })));
}

describe('realtime sockets signed in through the auth service', () => {
  let system: WholeSystem;

  beforeAll(async () => {
    // A heartbeat far longer than the test: a session's end must reach its sockets by itself.
    system = await startWholeSystem({ HEARTH_CORS_ORIGINS: APP_ORIGIN, HEARTH_REALTIME_HEARTBEAT_MS: '60000' });
  });
  afterAll(async () => {
    await system?.close();
  });

  async function signUp() {
    const id = randomUUID().slice(0, 8);
    const { tokens } = await system.client.auth.register({
      email: `socket.${id}@example.org`,
      password: 'lantern orbit velvet cactus 42',
      handle: `socket_${id}`,
      deviceName: 'realtime test',
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `key-${randomUUID()}`,
    });
    assert.ok(tokens);
    return tokens;
  }

  it('welcomes a Hello with a valid access token, naming the user and session', async () => {
    const tokens = await signUp();
    const peer = await connect(system.url);
    send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: tokens.accessToken } }, 5n);
    const { frame } = await peer.next();
    assert.equal(frame.case, 'welcome');
    assert.equal(frame.value.replyTo, 5n);
    assert.equal(frame.value.userId, tokens.userId);
    assert.equal(frame.value.sessionId, tokens.sessionId);
    assert.equal(frame.value.limits?.maxFrameBytes, 64 * 1024);
    assert.equal(frame.value.limits?.maxSubscriptions, 100);
    // The socket's own user channel is open to it.
    send(peer.ws, { case: 'subscribe', value: { channels: [{ channel: `user:${tokens.userId}` }] } }, 6n);
    const subscribed = await peer.next();
    assert.equal(subscribed.frame.case, 'subscribed');
    assert.equal(subscribed.frame.value.replyTo, 6n);
  });

  it('accepts the access cookie only from an allowed Origin', async () => {
    const tokens = await signUp();
    const cookie = `__Host-hearth_access=${tokens.accessToken}`;
    const foreign = await connect(system.url, { cookie, origin: 'https://evil.example' });
    send(foreign.ws, { case: 'hello', value: { protocolVersion: 1 } });
    const refused = await foreign.next();
    assert.equal(refused.frame.case, 'error');
    assert.equal(refused.frame.value.code, ErrorCode.UNAUTHENTICATED);
    assert.equal(await foreign.closed, 4000 + ErrorCode.UNAUTHENTICATED);

    const ours = await connect(system.url, { cookie, origin: APP_ORIGIN });
    send(ours.ws, { case: 'hello', value: { protocolVersion: 1 } });
    const welcome = await ours.next();
    assert.equal(welcome.frame.case, 'welcome');
    ours.ws.close();
  });

  it('closes the socket with UNAUTHENTICATED within a second of its session being logged out, not at the next heartbeat', async () => {
    const tokens = await signUp();
    const peer = await connect(system.url);
    send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: tokens.accessToken } });
    assert.equal((await peer.next()).frame.case, 'welcome');
    const t0 = Date.now();
    await system.client.auth.logout({}, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    const ended = await peer.next();
    assert.ok(Date.now() - t0 < 1_000, `closed after ${Date.now() - t0} ms`);
    assert.equal(ended.frame.case, 'error');
    assert.equal(ended.frame.value.code, ErrorCode.UNAUTHENTICATED);
    assert.equal(await peer.closed, 4000 + ErrorCode.UNAUTHENTICATED);
  });

  it('refuses a token whose session was already revoked', async () => {
    const tokens = await signUp();
    await system.client.auth.logout({}, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    const peer = await connect(system.url);
    send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: tokens.accessToken } });
    const refused = await peer.next();
    assert.equal(refused.frame.case, 'error');
    assert.equal(refused.frame.value.code, ErrorCode.UNAUTHENTICATED);
  });
});
