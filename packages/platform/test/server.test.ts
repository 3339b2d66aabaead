import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { UserService } from '@hearth/contracts';
import { UpdateProfileRequestSchema, UpdateProfileResponseSchema } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { create, fromBinary, fromJsonString, toBinary, toJsonString } from '@bufbuild/protobuf';
import { createLogger, createMetrics } from '@hearth/telemetry';
import { Writable } from 'node:stream';
import { type HearthServer, type ReadinessCheck, type ServerConfig, createServer } from '../src/index.js';
import { routesModule, startServer } from './helpers.js';

const ALLOWED_ORIGIN = 'https://app.hearth.test';

const config: ServerConfig = {
  host: '127.0.0.1',
  port: 0,
  bodyLimitBytes: 4096,
  corsOrigins: [ALLOWED_ORIGIN],
  shutdownGraceMs: 5_000,
  drainDelayMs: 0,
  trustedProxies: [],
};

/** A readiness check the test can flip. */
function toggleCheck(): ReadinessCheck & { healthy: boolean } {
  const c = {
    name: 'toggle',
    healthy: true,
    async check() {
      if (!c.healthy) throw new Error('down');
    },
  };
  return c;
}

interface Started {
  server: HearthServer;
  url: string;
  logs: string[];
  gate: { release(): void; entered: Promise<void> };
}

async function start(readiness: ReadinessCheck[]): Promise<Started> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  let release!: () => void;
  let entered!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const enteredP = new Promise<void>((r) => (entered = r));
  const logger = createLogger({ service: 'platform-test', level: 'info', destination });
  const server = await startServer({
    config,
    logger,
    metrics: createMetrics({ service: 'platform-test', collectDefault: false }),
    readiness,
    name: 'user',
    routes: (router) =>
      router.service(UserService, {
        // GetMe waits for the test, to observe draining; ListBlocks fails like a bug would.
        async getMe() {
          entered();
          await released;
          throw new ConnectError('no such user', Code.NotFound);
        },
        async listBlocks() {
          throw new Error('relation "users.blocks" does not exist; password=hunter2');
        },
        // Echoes its input into text of every UTF-8 width, for the wire-format test.
        async updateProfile(req) {
          const handle = req.handle ?? 'none';
          return { profile: { handle, displayName: 'Zoë ☕ 🌙 \u0080\u00ff', bio: `${handle} `.repeat(300) } };
        },
      }),
  });
  const url = await server.listen();
  return { server, url, logs, gate: { release, entered: enteredP } };
}

describe('platform server', () => {
  const check = toggleCheck();
  let s: Started;
  let client: ReturnType<typeof createClient<typeof UserService>>;

  beforeAll(async () => {
    s = await start([check]);
    client = createClient(UserService, createConnectTransport({ baseUrl: s.url, httpVersion: '1.1' }));
  });
  afterAll(async () => {
    s.gate.release();
    await s.server.close();
  });

  it('answers liveness and readiness, and readiness follows its checks', async () => {
    assert.equal((await fetch(`${s.url}/health/live`)).status, 200);
    const ready = await fetch(`${s.url}/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok', checks: { toggle: 'ok' } });
    check.healthy = false;
    const down = await fetch(`${s.url}/health/ready`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'unavailable', checks: { toggle: 'failed' } });
    check.healthy = true;
  });

  it('stays ready but reports degraded when a non-critical check fails', async () => {
    const degraded = await start([{ name: 'redis', critical: false, check: async () => Promise.reject(new Error('gone')) }]);
    try {
      const res = await fetch(`${degraded.url}/health/ready`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'degraded', checks: { redis: 'failed' } });
    } finally {
      degraded.gate.release();
      await degraded.server.close();
    }
  });

  it('answers an RPC nobody implemented yet with Unimplemented', async () => {
    await assert.rejects(client.getProfile({ lookup: { case: 'handle', value: 'someone' } }), (err) => {
      assert.equal(ConnectError.from(err).code, Code.Unimplemented);
      return true;
    });
  });

  it('refuses a request that breaks a protovalidate rule with InvalidArgument and the violations', async () => {
    const err = await client.getProfile({ lookup: { case: 'userId', value: 'not-a-uuid' } }).catch((e: unknown) => ConnectError.from(e));
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.InvalidArgument);
    assert.match(err.rawMessage, /^userId: /, 'fields are named as JSON clients spell them');
    assert.equal(err.details.length, 1);
  });

  it('speaks gRPC-web as well, through the same pipeline (the README says so)', async () => {
    const grpcWeb = createClient(UserService, createGrpcWebTransport({ baseUrl: s.url, httpVersion: '1.1' }));
    const invalid = await grpcWeb.getProfile({ lookup: { case: 'userId', value: 'not-a-uuid' } }).then(
      () => assert.fail('accepted'),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(invalid.code, Code.InvalidArgument);
    assert.match(invalid.rawMessage, /^userId: /);
    const unimplemented = await grpcWeb.getProfile({ lookup: { case: 'handle', value: 'someone' } }).then(
      () => assert.fail('answered'),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(unimplemented.code, Code.Unimplemented);
  });

  it('answers in JSON and in binary protobuf with the bytes the serializer made (any byte, any length)', async () => {
    const want = { displayName: 'Zoë ☕ 🌙 \u0080\u00ff', bio: 'zoe_1 '.repeat(300) };
    // Each body with its length, as apps send them, so the lean unary path serves it; the
    // answer uncompressed (fetch would ask for gzip and hide the length on the wire).
    const call = async (type: string, body: Uint8Array) => {
      const res = await fetch(`${s.url}/hearth.user.v1.UserService/UpdateProfile`, {
        method: 'POST',
        headers: { 'content-type': type, 'content-length': String(body.byteLength), 'accept-encoding': 'identity' },
        body,
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      assert.equal(res.status, 200);
      assert.equal(Number(res.headers.get('content-length')), bytes.byteLength, 'the head gives the length of the body');
      return bytes;
    };
    const request = create(UpdateProfileRequestSchema, { version: 1n, handle: 'zoe_1' });
    const json = await call('application/json', new TextEncoder().encode(toJsonString(UpdateProfileRequestSchema, request)));
    const fromJson = fromJsonString(UpdateProfileResponseSchema, new TextDecoder('utf-8', { fatal: true }).decode(json));
    const binary = await call('application/proto', toBinary(UpdateProfileRequestSchema, request));
    const fromProto = fromBinary(UpdateProfileResponseSchema, binary);
    for (const r of [fromJson, fromProto]) {
      assert.equal(r.profile?.displayName, want.displayName);
      assert.equal(r.profile?.bio, want.bio);
    }
    // Through the SDK's transport as well, in both formats.
    const binaryClient = createClient(UserService, createConnectTransport({ baseUrl: s.url, httpVersion: '1.1', useBinaryFormat: true }));
    for (const c of [client, binaryClient]) assert.equal((await c.updateProfile(request)).profile?.bio, want.bio);
  });

  it('refuses malformed JSON and malformed protobuf with InvalidArgument', async () => {
    const json = await fetch(`${s.url}/hearth.user.v1.UserService/GetProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"userId": ',
    });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { code: string }).code, 'invalid_argument');
    const proto = await fetch(`${s.url}/hearth.user.v1.UserService/GetProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto' },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
    });
    assert.equal(proto.status, 400);
    assert.equal(((await proto.json()) as { code: string }).code, 'invalid_argument');
  });

  it('refuses an oversize body with ResourceExhausted', async () => {
    const res = await fetch(`${s.url}/hearth.user.v1.UserService/GetProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: 'x'.repeat(10_000) }),
    });
    assert.equal(((await res.json()) as { code: string }).code, 'resource_exhausted');
  });

  it('answers unknown routes and unknown methods with 404', async () => {
    assert.equal((await fetch(`${s.url}/nope`)).status, 404);
    const res = await fetch(`${s.url}/hearth.user.v1.UserService/NoSuchMethod`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 404);
  });

  it('hides internals of unexpected errors but logs them with the request id', async () => {
    const err = await client.listBlocks({}).catch((e: unknown) => ConnectError.from(e));
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Internal);
    assert.doesNotMatch(err.rawMessage, /hunter2|relation/);
    const line = s.logs.find((l) => l.includes('relation'));
    assert.ok(line, 'the original error is logged');
    assert.match(line, /"requestId"/);
  });

  it("logs a plain HTTP route's failure with its request id (req.log is bound when first used)", async () => {
    const logs: string[] = [];
    const logger = createLogger({
      service: 'platform-test',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          logs.push(chunk.toString());
          cb();
        },
      }),
    });
    const server = await createServer({
      server: config,
      logger,
      metrics: createMetrics({ service: 'platform-test', collectDefault: false }),
      modules: [
        {
          ...routesModule('user', () => undefined),
          http: async (app) => {
            app.get('/boom', async () => {
              throw new Error('boom in a route');
            });
            app.get('/quiet', async (req) => ({ level: req.log.level }));
          },
        },
      ],
      readiness: [],
      interceptors: [],
    });
    const url = await server.listen();
    try {
      const boom = await fetch(`${url}/boom`, { headers: { 'x-request-id': 'req-boom-1' } });
      assert.equal(boom.status, 500);
      const line = logs.find((l) => l.includes('unhandled error in HTTP route'));
      assert.ok(line, logs.join(''));
      assert.equal((JSON.parse(line) as { reqId?: string }).reqId, 'req-boom-1');
      const quiet = await fetch(`${url}/quiet`);
      assert.deepEqual(await quiet.json(), { level: 'info' });
    } finally {
      await server.close();
    }
  });

  it('sends security headers and CORS headers for allowed origins only', async () => {
    const live = await fetch(`${s.url}/health/live`);
    assert.equal(live.headers.get('x-content-type-options'), 'nosniff');
    assert.match(live.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const preflight = await fetch(`${s.url}/hearth.user.v1.UserService/GetMe`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,connect-protocol-version,authorization',
      },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /connect-protocol-version/i);
    const other = await fetch(`${s.url}/hearth.user.v1.UserService/GetMe`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('exports RPC metrics by code', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(text, /hearth_rpc_requests_total\{[^}]*method="GetProfile"[^}]*code="unimplemented"[^}]*\} [1-9]/);
    assert.match(text, /hearth_rpc_requests_total\{[^}]*code="invalid_argument"[^}]*\} [1-9]/);
  });
});

describe('graceful shutdown', () => {
  it('fails readiness, lets the in-flight request finish, then stops', async () => {
    const s = await start([]);
    const client = createClient(UserService, createConnectTransport({ baseUrl: s.url, httpVersion: '1.1' }));
    const inFlight = client.getMe({}).catch((e: unknown) => ConnectError.from(e));
    await s.gate.entered;
    const closing = s.server.close();
    const ready = await fetch(`${s.url}/health/ready`).catch(() => undefined);
    assert.notEqual(ready?.status, 200, 'not ready while draining');
    s.gate.release();
    const result = await inFlight;
    assert.ok(result instanceof ConnectError);
    assert.equal(result.code, Code.NotFound, 'the in-flight call got its real answer');
    await closing;
    await assert.rejects(fetch(`${s.url}/health/live`));
  });
});
