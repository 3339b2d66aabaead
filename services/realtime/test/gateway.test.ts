import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { ClientFrameSchema, ErrorCode } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import type { Host } from '@hearth/platform';
import { type TestDatabase, createTestDatabase } from '@hearth/testkit';
import { WebSocket } from 'ws';
import { SUBPROTOCOL, connect, errorOf, send, startGateway as startGatewayOn, startTokenIssuer, welcomed } from './helpers.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase({ prefix: 'realtime' });
});
afterAll(() => testDb.drop());

// Nothing here presents a valid token: the auth service is unreachable.
const startGateway = (env: Record<string, string>): Promise<Host> => startGatewayOn(testDb.url, env);

describe('realtime gateway', () => {
  let host: Host;

  beforeAll(async () => {
    host = await startGateway({
      HEARTH_REALTIME_HELLO_TIMEOUT_MS: '400',
      HEARTH_REALTIME_HEARTBEAT_MS: '5000',
      HEARTH_REALTIME_MAX_FRAME_BYTES: '2048',
    });
  });
  afterAll(() => host.close());

  it('selects the hearth subprotocol and answers Ping with Pong', async () => {
    const peer = await connect(host.url);
    assert.equal(peer.ws.protocol, SUBPROTOCOL);
    send(peer.ws, { case: 'ping', value: { nonce: 42n } }, 7n);
    const pong = await peer.next();
    assert.equal(pong.frame.case, 'pong');
    assert.equal(pong.frame.value.nonce, 42n);
    assert.equal(pong.frame.value.replyTo, 7n);
    peer.ws.close();
  });

  it('refuses a Hello without a valid token or cookie with UNAUTHENTICATED and close code 4001', async () => {
    for (const accessToken of ['not-a-jwt', '']) {
      const peer = await connect(host.url);
      send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken } }, 3n);
      const err = errorOf(await peer.next());
      assert.equal(err.code, ErrorCode.UNAUTHENTICATED, accessToken);
      assert.equal(err.closing, true);
      assert.equal(err.replyTo, 3n);
      assert.deepEqual(await peer.closed, { code: 4000 + ErrorCode.UNAUTHENTICATED, reason: 'UNAUTHENTICATED' });
    }
  });

  it('refuses an unsupported protocol version', async () => {
    const peer = await connect(host.url);
    send(peer.ws, { case: 'hello', value: { protocolVersion: 2 } });
    assert.equal(errorOf(await peer.next()).code, ErrorCode.PROTOCOL_VERSION_UNSUPPORTED);
    assert.equal((await peer.closed).code, 4000 + ErrorCode.PROTOCOL_VERSION_UNSUPPORTED);
  });

  it('refuses text messages, undecodable bytes and rule-breaking frames as INVALID_FRAME', async () => {
    for (const payload of ['{"ping":{}}', Buffer.from([0x12, 0xff, 0xff]), toBinary(ClientFrameSchema, create(ClientFrameSchema, { id: 1n }))]) {
      const peer = await connect(host.url);
      peer.ws.send(payload);
      const err = errorOf(await peer.next());
      assert.equal(err.code, ErrorCode.INVALID_FRAME, String(payload));
      assert.equal((await peer.closed).code, 4000 + ErrorCode.INVALID_FRAME);
    }
  });

  it('refuses frames other than Ping before Hello', async () => {
    const peer = await connect(host.url);
    send(peer.ws, { case: 'ack', value: { channel: 'circle:0190f3a2-7c4e-7a1b-9c3d-2e4f5a6b7c8d', seq: 1n } });
    assert.equal(errorOf(await peer.next()).code, ErrorCode.UNAUTHENTICATED);
  });

  it('closes a socket that sends no Hello in time', async () => {
    const peer = await connect(host.url);
    assert.equal(errorOf(await peer.next()).code, ErrorCode.HELLO_TIMEOUT);
    assert.equal((await peer.closed).code, 4000 + ErrorCode.HELLO_TIMEOUT);
  });

  it('refuses frames larger than the limit', async () => {
    const peer = await connect(host.url);
    peer.ws.send(Buffer.alloc(4096));
    assert.equal((await peer.closed).code, 1009);
  });
});

describe('realtime heartbeats', () => {
  let host: Host;

  beforeAll(async () => {
    host = await startGateway({ HEARTH_REALTIME_HELLO_TIMEOUT_MS: '10000', HEARTH_REALTIME_HEARTBEAT_MS: '100' });
  });
  afterAll(() => host.close());

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const silent = await connect(host.url, { autoPong: false });
    const alive = await connect(host.url, { autoPong: true });
    const { code } = await silent.closed;
    assert.equal(code, 1006, 'terminated without a close handshake');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(alive.ws.readyState, WebSocket.OPEN);
    send(alive.ws, { case: 'ping', value: { nonce: 1n } });
    assert.equal((await alive.next()).frame.case, 'pong');
    alive.ws.close();
  });
});

describe('realtime shutdown', () => {
  it('tells every socket, welcomed or not, to go away with a spread retry_after when the host stops', async () => {
    const issuer = await startTokenIssuer();
    const host = await startGatewayOn(testDb.url, { HEARTH_DRAIN_DELAY_MS: '200' }, issuer);
    try {
      const peers = [await welcomed(host.url, issuer.token()), await welcomed(host.url, issuer.token()), await connect(host.url)];
      const closing = host.close();
      for (const peer of peers) {
        const frame = await peer.next();
        const err = errorOf(frame);
        assert.equal(err.code, ErrorCode.GOING_AWAY);
        assert.ok(err.closing);
        const retryMs = Number(err.retryAfter?.seconds ?? 0n) * 1000 + (err.retryAfter?.nanos ?? 0) / 1e6;
        assert.ok(retryMs >= 500 && retryMs <= 4_500, `retry_after ${retryMs} ms`);
        assert.equal((await peer.closed).code, 4000 + ErrorCode.GOING_AWAY);
      }
      await closing;
    } finally {
      await issuer.close();
    }
  });
});
