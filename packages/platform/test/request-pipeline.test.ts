import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type DescField, type DescMessage, type JsonValue, ScalarType, create, getOption, hasOption, toJson } from '@bufbuild/protobuf';
import { field as fieldRules } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { services } from '@hearth/contracts';
import { InvalidPageTokenError, VersionConflictError, newId } from '@hearth/db';
import { createLogger, createMetrics, errorLoggingInterceptor, initTracing, telemetryInterceptor } from '@hearth/telemetry';
import {
  type HearthServer,
  RedisUnavailableError,
  type ServerConfig,
  clientAddressKey,
  createServer,
  inputInterceptor,
  knownErrorsInterceptor,
} from '../src/index.js';
import { routesModule } from './helpers.js';

const logger = createLogger({ service: 'pipeline-test', level: 'silent' });
const metrics = createMetrics({ service: 'pipeline-test', collectDefault: false });
const { tracer } = initTracing({ service: 't', config: { exporter: 'none' } });
const config = (trustedProxies: string[] = []): ServerConfig => ({
  host: '127.0.0.1',
  port: 0,
  bodyLimitBytes: 1_048_576,
  corsOrigins: [],
  shutdownGraceMs: 2_000,
  drainDelayMs: 0,
  trustedProxies,
});

/** Every method of every service, with a recorder of the request as the input step left it. */
let seen: Record<string, unknown> | undefined;
const recorder: Interceptor = () => async (req) => {
  seen = req.message as unknown as Record<string, unknown>;
  throw new ConnectError('recorded', Code.Aborted);
};

async function pipelineServer(opts: { trustedProxies?: string[]; handlers?: Record<string, Record<string, unknown>> } = {}): Promise<{ server: HearthServer; url: string }> {
  const server = await createServer({
    server: config(opts.trustedProxies),
    logger,
    metrics,
    readiness: [],
    modules: [
      routesModule('auth', (router) => {
        for (const [name, svc] of Object.entries(services)) router.service(svc, (opts.handlers?.[name] ?? {}) as never);
      }),
    ],
    interceptors: [
      telemetryInterceptor({ logger, metrics, tracer }),
      errorLoggingInterceptor(),
      knownErrorsInterceptor(),
      inputInterceptor(),
      ...(opts.handlers ? [] : [recorder]),
    ],
  });
  return { server, url: await server.listen() };
}

async function call(url: string, service: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { code?: string; message?: string; details?: unknown[] } }> {
  const res = await fetch(`${url}/${service}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string; details?: unknown[] } };
}

interface StringSite {
  /** The JSON path as clients spell it, e.g. "lookup.userId" is "userId" (oneofs are flat). */
  readonly path: string;
  /** The request with the string at this site set to `value`. */
  readonly build: (value: string) => JsonValue;
  readonly uuid: boolean;
}

function isUuidRule(field: DescField): boolean {
  if (!hasOption(field, fieldRules)) return false;
  const r = getOption(field, fieldRules);
  const uuid = (x: typeof r | undefined) => x?.type.case === 'string' && x.type.value.wellKnown.case === 'uuid';
  return uuid(r) || (r.type.case === 'repeated' && uuid(r.type.value.items));
}

/** Every place a string can go in a request type, nested messages and lists included (depth-limited). */
function stringSites(desc: DescMessage, depth = 0): StringSite[] {
  if (depth > 3) return [];
  const sites: StringSite[] = [];
  for (const f of desc.fields) {
    const wrap = (inner: (v: string) => unknown) => (v: string): JsonValue => {
      const init = { [f.localName]: f.oneof ? undefined : inner(v) } as Record<string, unknown>;
      if (f.oneof) init[f.oneof.localName] = { case: f.localName, value: inner(v) };
      return toJson(desc, create(desc, init as never)) as JsonValue;
    };
    if ((f.fieldKind === 'scalar' || f.fieldKind === 'list') && f.scalar === ScalarType.STRING) {
      sites.push({ path: f.fieldKind === 'list' ? `${f.jsonName}[0]` : f.jsonName, build: wrap((v) => (f.fieldKind === 'list' ? [v] : v)), uuid: isUuidRule(f) });
    } else if (f.fieldKind === 'map' && f.mapKey === ScalarType.STRING) {
      sites.push({ path: `${f.jsonName}["k"]`, build: wrap((v) => ({ k: f.mapKind === 'scalar' && f.scalar === ScalarType.STRING ? v : undefined })), uuid: false });
    } else if (f.fieldKind === 'message' && !f.message.typeName.startsWith('google.protobuf.')) {
      for (const inner of stringSites(f.message, depth + 1)) {
        sites.push({ path: `${f.jsonName}.${inner.path}`, build: (v) => ({ [f.jsonName]: inner.build(v) }) as JsonValue, uuid: inner.uuid });
      }
    }
  }
  return sites;
}

const methods = Object.values(services).flatMap((svc) => svc.methods.map((m) => ({ svc, m })));

describe('the input step, over every string field of every request of every service', () => {
  let s: { server: HearthServer; url: string };
  beforeAll(async () => {
    s = await pipelineServer();
  });
  afterAll(() => s.server.close());

  it('refuses NUL and unpaired surrogates anywhere with InvalidArgument naming the field as JSON spells it', async () => {
    const bad = ['\u0000', 'a\u0000b', '\ud800', 'x\udc00', 'ok\ud83d'];
    let checked = 0;
    for (const { svc, m } of methods) {
      for (const site of stringSites(m.input)) {
        const value = bad[checked % bad.length] as string;
        const res = await call(s.url, svc.typeName, m.name, site.build(value));
        checked++;
        assert.equal(res.body.code, 'invalid_argument', `${m.name} ${site.path}: ${JSON.stringify(res.body)}`);
        assert.ok(res.body.message?.startsWith(`${site.path}: `), `${m.name}: ${res.body.message} names ${site.path}`);
        assert.equal(res.body.details?.length, 1, `${m.name} ${site.path}: violations in the details`);
      }
    }
    assert.ok(checked > 200, `only ${checked} string fields found`);
  });

  it('puts every id in one spelling: an upper-case UUID reaches the handler in lower case', async () => {
    let checked = 0;
    for (const { svc, m } of methods) {
      for (const site of stringSites(m.input).filter((x) => x.uuid)) {
        const id = newId();
        seen = undefined;
        const res = await call(s.url, svc.typeName, m.name, site.build(id.toUpperCase()));
        assert.equal(res.body.code, 'aborted', `${m.name} ${site.path}: ${JSON.stringify(res.body)}`);
        const text = JSON.stringify(seen, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        assert.ok(text.includes(id) && !text.includes(id.toUpperCase()), `${m.name} ${site.path}`);
        checked++;
      }
    }
    assert.ok(checked > 50, `only ${checked} id fields found`);
  });

  it('refuses unknown enum names and unknown fields instead of reading them as defaults', async () => {
    let checked = 0;
    for (const { svc, m } of methods) {
      const enumField = m.input.fields.find((f) => f.fieldKind === 'enum');
      if (enumField) {
        const res = await call(s.url, svc.typeName, m.name, { [enumField.jsonName]: 'NO_SUCH_VALUE' });
        assert.equal(res.body.code, 'invalid_argument', `${m.name}.${enumField.jsonName}`);
        assert.ok(res.body.message?.startsWith(`${enumField.jsonName}: `), res.body.message);
        assert.equal(res.body.details?.length, 1);
        checked++;
      }
      const res = await call(s.url, svc.typeName, m.name, { noSuchField: 1 });
      assert.equal(res.body.code, 'invalid_argument', `${m.name}: unknown field`);
      assert.equal(res.body.message, 'noSuchField: no such field');
      assert.equal(res.body.details?.length, 1);
    }
    assert.ok(checked > 10);
  });
});

describe('known errors become the codes their contracts promise', () => {
  let s: { server: HearthServer; url: string };
  let thrown: unknown;
  beforeAll(async () => {
    s = await pipelineServer({
      handlers: {
        user: {
          listBlocks: () => {
            throw thrown;
          },
        },
      },
    });
  });
  afterAll(() => s.server.close());

  const cases: Array<[string, () => unknown, string]> = [
    ['a refused connection', () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'unavailable'],
    ['a pool timeout', () => new Error('timeout exceeded when trying to connect'), 'unavailable'],
    ['a terminated backend', () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'unavailable'],
    ['a server starting up', () => Object.assign(new Error('the database system is starting up'), { code: '57P03' }), 'unavailable'],
    ['statement_timeout', () => Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), 'unavailable'],
    ['a serialization failure', () => Object.assign(new Error('could not serialize access'), { code: '40001' }), 'aborted'],
    ['a stale version', () => new VersionConflictError('circle', '3'), 'aborted'],
    ['a forged page token', () => new InvalidPageTokenError('not one of ours'), 'invalid_argument'],
    ['Redis known down', () => new RedisUnavailableError('down'), 'unavailable'],
    ['NUL reaching the database', () => Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }), 'invalid_argument'],
    ['a bug', () => new TypeError("Cannot read properties of undefined (reading 'x')"), 'internal'],
  ];
  for (const [what, make, code] of cases) {
    it(`${what}: ${code}`, async () => {
      thrown = make();
      const res = await call(s.url, 'hearth.user.v1.UserService', 'ListBlocks', {});
      assert.equal(res.body.code, code, JSON.stringify(res.body));
      if (what === 'a forged page token') assert.match(res.body.message ?? '', /^pageToken: /);
    });
  }
});

describe('client addresses behind proxies', () => {
  const handlers = {
    user: {
      getMe: (_req: unknown, ctx: { values: { get: (k: typeof clientAddressKey) => { ip: string } } }) => {
        throw new ConnectError(`ip=${ctx.values.get(clientAddressKey).ip}`, Code.FailedPrecondition);
      },
    },
  };
  const ipOf = async (url: string, forwarded?: string) =>
    (await call(url, 'hearth.user.v1.UserService', 'GetMe', {}, forwarded ? { 'x-forwarded-for': forwarded } : {})).body.message;

  it('believes X-Forwarded-For only from a configured proxy, and takes the address the proxy saw', async () => {
    const direct = await pipelineServer({ handlers });
    const behindProxy = await pipelineServer({ handlers, trustedProxies: ['127.0.0.1'] });
    const behindOther = await pipelineServer({ handlers, trustedProxies: ['10.0.0.0/8'] });
    try {
      for (const forwarded of ['203.0.113.7', '198.51.100.2, 203.0.113.7', '2001:db8::1']) {
        assert.equal(await ipOf(direct.url, forwarded), 'ip=127.0.0.1', 'no proxy trusted: the peer');
        assert.equal(await ipOf(behindOther.url, forwarded), 'ip=127.0.0.1', 'the peer is not a trusted proxy');
        assert.equal(await ipOf(behindProxy.url, forwarded), `ip=${forwarded.split(',').at(-1)?.trim()}`, 'the client the proxy saw');
      }
      assert.equal(await ipOf(behindProxy.url), 'ip=127.0.0.1');
    } finally {
      await Promise.all([direct.server.close(), behindProxy.server.close(), behindOther.server.close()]);
    }
  });
});
