import assert from 'node:assert/strict';
import { request } from 'node:http';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { CircleService, CreateCircleRequestSchema, GetCircleRequestSchema } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { createRng } from '@hearth/testkit';
import { mountConnect } from '../src/connect-mount.js';

/**
 * The unary path (connect-unary.ts) must answer exactly as connect-es does. Two servers mount the
 * same implementation and interceptors, one with the unary path and one without; generated
 * requests (well-formed or not, in every content type, encoding, timeout and size) go to both,
 * and their answers are compared: status, headers and body.
 */

const READ_MAX = 2048;

// Signals of calls that asked for theirs to be kept (circleId "keep-signal").
const kept: AbortSignal[] = [];

const routes = (router: ConnectRouter) =>
  router.service(CircleService, {
    async getCircle(req, ctx) {
      const [kind, arg] = req.circleId.split(':');
      switch (kind) {
        case 'connect-error': {
          const err = new ConnectError('not here', Code.NotFound, { 'x-why': 'gone' });
          throw err;
        }
        case 'plain-error':
          throw new Error('a driver error with SQL in it');
        case 'headers':
          ctx.responseHeader.set('x-answer', 'yes');
          ctx.responseHeader.append('set-cookie', 'a=1');
          ctx.responseHeader.append('set-cookie', 'b=2');
          ctx.responseTrailer.set('x-trailer', 'late');
          break;
        case 'slow':
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Number(arg ?? 50));
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              resolve();
            });
          });
          if (ctx.signal.aborted) throw ctx.signal.reason;
          break;
        case 'timeout':
          return { circle: { id: String(ctx.timeoutMs() !== undefined) } };
        case 'keep-signal':
          kept.push(ctx.signal);
          break;
      }
      return {
        circle: {
          id: req.circleId,
          name: 'Circle',
          description: kind === 'big' ? 'x'.repeat(1500) : 'small',
          visibility: CircleVisibility.PRIVATE,
          memberCount: 3,
          lastSeq: 9007199254740993n,
          createTime: { seconds: 1_700_000_000n, nanos: 5 },
        },
      };
    },
    async createCircle(req) {
      return { circle: { id: req.idempotencyKey, name: req.name, description: req.description, memberCap: req.memberCap, visibility: req.visibility } };
    },
  });

// An interceptor that reads a request header and can refuse, and adds a response header.
const interceptor: Interceptor = (next) => async (req) => {
  if (req.header.get('x-refuse') === '1') throw new ConnectError('refused', Code.PermissionDenied, { 'x-refused': 'by interceptor' });
  const res = await next(req);
  res.header.set('x-seen-user-agent', req.header.get('user-agent') ?? '');
  return res;
};

async function serve(unaryPath: boolean): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ bodyLimit: READ_MAX * 4 });
  mountConnect(app, {
    routes,
    interceptors: [interceptor],
    readMaxBytes: READ_MAX,
    shutdownTimeoutMs: 1000,
    jsonOptions: { ignoreUnknownFields: false },
    unaryPath,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { app, port: address.port };
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Sent in two chunks with no declared length (as connect-node's clients send). */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(port: number, s: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A connection per request: a server may close one after refusing a body it did not read.
    const req = request({ host: '127.0.0.1', port, method: s.method, path: s.path, headers: s.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (s.chunked) {
      req.write(s.body.subarray(0, s.body.length >> 1));
      req.end(s.body.subarray(s.body.length >> 1));
    } else {
      req.end(s.body);
    }
  });
}

/** What must be equal: the status, every header but the date, and the body (decompressed). */
function comparable(a: Answer): { status: number; headers: Record<string, unknown>; body: unknown } {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a.headers)) if (k !== 'date') headers[k] = v;
  let body: Buffer = a.body;
  const encoding = a.headers['content-encoding'];
  if (encoding === 'gzip') body = gunzipSync(body);
  if (encoding === 'br') body = brotliDecompressSync(body);
  const type = String(a.headers['content-type'] ?? '');
  return { status: a.status, headers, body: type.includes('json') ? body.toString('utf8') : body.toString('base64') };
}

function generate(seed: number): Sent {
  const rng = createRng(seed);
  const rand = rng.int;
  const pick = rng.pick;
  const method = rand(10) === 0 ? pick(['GET', 'PUT']) : 'POST';
  const rpc = pick(['GetCircle', 'GetCircle', 'GetCircle', 'CreateCircle', 'ListMembers', 'NoSuchMethod']);
  const path = `/hearth.circle.v1.CircleService/${rpc}${rand(15) === 0 ? '?encoding=json' : ''}`;
  const format = pick(['json', 'json', 'json', 'proto', 'proto', 'other'] as const);
  const headers: Record<string, string> = { 'user-agent': pick(['app/1.0', 'tests']) };
  headers['content-type'] =
    format === 'json'
      ? pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=utf8'])
      : format === 'proto'
        ? 'application/proto'
        : pick(['text/plain', 'application/connect+json', 'application/json; charset=latin1', 'application/grpc']);
  const circleId = pick(['ok', 'big', 'connect-error', 'plain-error', 'headers', 'slow:1', 'slow:40', 'timeout', '']);
  let body: Buffer;
  if (rpc === 'CreateCircle') {
    const init = { name: pick(['Circle', '']), description: 'd', visibility: pick([CircleVisibility.PUBLIC, CircleVisibility.PRIVATE, 7]), memberCap: pick([0, 5, -1]), idempotencyKey: 'key-12345' };
    body =
      format === 'proto'
        ? Buffer.from(toBinary(CreateCircleRequestSchema, create(CreateCircleRequestSchema, init)))
        : Buffer.from(
            pick([
              JSON.stringify({ ...init, visibility: pick(['CIRCLE_VISIBILITY_PUBLIC', 'CIRCLE_VISIBILITY_SECRET', 1]) }),
              JSON.stringify({ name: 42 }),
              JSON.stringify({ memberCap: 'many' }),
              JSON.stringify({ nosuch: true }),
            ]),
          );
  } else {
    body =
      format === 'proto'
        ? Buffer.from(toBinary(GetCircleRequestSchema, create(GetCircleRequestSchema, { circleId })))
        : Buffer.from(JSON.stringify({ circleId }));
  }
  // Malformed bodies of every kind.
  switch (rand(24)) {
    case 0:
      body = Buffer.from('{"circleId": ');
      break;
    case 1:
      body = Buffer.from([0x0a, 0xff, 0xff, 0x01]);
      break;
    case 2:
      body = Buffer.alloc(0);
      break;
    case 3:
      body = Buffer.from(JSON.stringify({ circleId: 'x'.repeat(READ_MAX + rand(100) - 50) }));
      break;
    case 4:
      body = Buffer.from('[]');
      break;
  }
  switch (rand(14)) {
    case 0:
      headers['content-encoding'] = 'gzip';
      body = rand(3) === 0 ? body : gzipSync(body);
      break;
    case 1:
      headers['content-encoding'] = 'br';
      body = brotliCompressSync(body);
      break;
    case 2:
      headers['content-encoding'] = pick(['zstd', 'identity', 'GZIP']);
      break;
  }
  if (rand(3) === 0) headers['accept-encoding'] = pick(['gzip', 'br', 'gzip, br', 'identity', 'deflate', 'br;q=0.5, gzip;q=1']);
  if (rand(6) === 0) headers['connect-timeout-ms'] = pick(['1', '5000', '0', '-1', 'abc', '99999999999', '']);
  if (rand(6) === 0) headers['connect-protocol-version'] = pick(['1', '2']);
  if (rand(10) === 0) headers['x-refuse'] = '1';
  return { method, path, headers, body, ...(rand(3) === 0 ? { chunked: true } : {}) };
}

describe('the unary path answers as connect-es does', () => {
  let lean: Awaited<ReturnType<typeof serve>>;
  let reference: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    [lean, reference] = await Promise.all([serve(true), serve(false)]);
  });
  afterAll(async () => {
    await Promise.all([lean.app.close(), reference.app.close()]);
  });

  it('over generated requests: same status, headers and body', async () => {
    let served = 0;
    const statuses = new Map<number, number>();
    for (let seed = 1; seed <= 600; seed++) {
      const sent = generate(seed);
      const outcome = (p: Promise<Answer>) => p.catch((err: Error) => ({ status: -1, headers: {}, body: Buffer.from(err.message) }) as Answer);
      const [a, b] = await Promise.all([outcome(send(lean.port, sent)), outcome(send(reference.port, sent))]);
      assert.deepEqual(comparable(a), comparable(b), `seed ${seed}: ${sent.method} ${sent.path} ${JSON.stringify(sent.headers)} ${sent.body.toString('utf8').slice(0, 80)}`);
      if (a.status === 200) served++;
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    // Every kind of answer was compared: served, refused by the protocol, by the interceptor,
    // by the handler, and connections the server ended.
    for (const status of [200, 400, 403, 404, 415, 500]) assert.ok(statuses.has(status), `no ${status} among ${JSON.stringify([...statuses])}`);
    // The cases reach the handler often enough to compare real answers, not only refusals.
    assert.ok(served > 100, `only ${served} of 600 requests were served`);
  });

  it('takes the unary path for plain JSON and protobuf calls, and connect-es for the rest', async () => {
    // One observable difference tells the paths apart: connect-es aborts a call's signal when
    // the call ends, the unary path does not (nothing listens then, and an abort costs).
    const call = async (port: number, headers: Record<string, string>, body: Buffer) => {
      const before = kept.length;
      const a = await send(port, { method: 'POST', path: '/hearth.circle.v1.CircleService/GetCircle', headers, body });
      assert.equal(a.status, 200, a.body.toString());
      assert.equal(kept.length, before + 1);
      return kept[before]?.aborted;
    };
    const json = Buffer.from(JSON.stringify({ circleId: 'keep-signal' }));
    const proto = Buffer.from(toBinary(GetCircleRequestSchema, create(GetCircleRequestSchema, { circleId: 'keep-signal' })));
    assert.equal(await call(lean.port, { 'content-type': 'application/json' }, json), false, 'JSON: the unary path');
    assert.equal(await call(lean.port, { 'content-type': 'application/proto' }, proto), false, 'protobuf: the unary path');
    assert.equal(await call(lean.port, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(json)), false, 'gzip: the unary path');
    assert.equal(await call(reference.port, { 'content-type': 'application/json' }, json), true, 'the reference is connect-es');
    // A body whose length is not declared (connect-node's clients) takes the unary path too.
    const chunked = await new Promise<boolean | undefined>((resolve, reject) => {
      const before = kept.length;
      const req = request({ host: '127.0.0.1', port: lean.port, method: 'POST', path: '/hearth.circle.v1.CircleService/GetCircle', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(kept[before]?.aborted));
      });
      req.on('error', reject);
      req.write(json.subarray(0, 5));
      req.end(json.subarray(5));
    });
    assert.equal(chunked, false, 'chunked: the unary path');
  });
});
