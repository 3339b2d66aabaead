// One trace across two Hearth processes started the way production starts them: the auth and the
// user service, each in its own process with @hearth/telemetry/register preloaded and
// HEARTH_TRACING_EXPORTER=otlp, exporting to an OTLP/HTTP receiver in this test (the exporter
// sends JSON). A call to one service that calls the other must come out as one trace: the RPC,
// its SQL and Redis commands, the HTTP call out and the other service's RPC under it. What people
// typed never reaches a span.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, ServiceTokens } from '@hearth/authz';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { type TestDatabase, type TestRedis, createTestDatabase, createTestRedis, freePort, repoRoot } from '@hearth/testkit';
import { newUser } from './helpers.js';

/** A span as the receiver got it, with its attributes and its process's service.name flattened. */
interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's numbering: 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, unknown>>;
}

const SERVER = 2;
const CLIENT = 3;

interface OtlpKeyValue {
  key: string;
  value: Record<string, unknown>;
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpKeyValue[] }>;
    }>;
  }>;
}

function attributesOf(kvs: OtlpKeyValue[] = []): Record<string, unknown> {
  // OTLP JSON wraps each value by type ({ stringValue }, { intValue }, ...); one key per value.
  return Object.fromEntries(kvs.map(({ key, value }) => [key, Object.values(value)[0]]));
}

/** A collector's OTLP/HTTP endpoint, keeping every span and every raw body it was sent. */
class Receiver {
  readonly spans: ReceivedSpan[] = [];
  readonly bodies: string[] = [];
  readonly #server: Server = createServer((req, res) => void this.#handle(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(415).end();
      return;
    }
    this.bodies.push(body);
    for (const rs of (JSON.parse(body) as OtlpExport).resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name']);
      for (const span of (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])) {
        this.spans.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
        });
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }

  /** Waits for a span (spans arrive in batches, seconds after they end). */
  async waitFor(what: string, match: (s: ReceivedSpan) => boolean, timeoutMs = 20_000): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(match);
      if (found) return found;
      if (Date.now() > deadline) assert.fail(`no span ${what} arrived; got ${this.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
      await delay(100);
    }
  }
}

/** One Hearth service in its own process, exactly as `npm start -w services/<name>` runs it. */
class ServiceProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  #output = '';
  readonly #exited: Promise<number | null>;

  constructor(
    readonly name: string,
    port: number,
    env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const args = ['--conditions=@hearth/source', '--import', 'tsx', '--import', '@hearth/telemetry/register', `services/${name}/src/main.ts`];
    this.#child = spawn(process.execPath, args, { cwd: repoRoot(), env: { ...baseEnv(), ...env, HEARTH_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => void (this.#output = (this.#output + chunk.toString('utf8')).slice(-20_000));
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
  }

  async ready(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) assert.fail(`${this.name} exited with ${this.#child.exitCode}:\n${this.#output}`);
      const res = await fetch(`${this.url}/health/ready`).catch(() => undefined);
      if (res?.status === 200) return;
      await delay(200);
    }
    assert.fail(`${this.name} was not ready within ${timeoutMs} ms:\n${this.#output}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** The runner's environment without Hearth's own variables, which would configure the children. */
function baseEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !/^(HEARTH_|DATABASE_URL$|REDIS_URL$|OTEL_)/.test(entry[0]),
    ),
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The span and its ancestors within the received spans, nearest first. */
function ancestry(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const chain = [span];
  for (let s = span; s.parentSpanId; ) {
    const parent = spans.find((p) => p.traceId === s.traceId && p.spanId === s.parentSpanId);
    if (!parent) break;
    chain.push(parent);
    s = parent;
  }
  return chain;
}

describe('tracing across services (auth and user in separate processes)', { timeout: 240_000 }, () => {
  const receiver = new Receiver();
  const secret = randomBytes(32).toString('base64url');
  // Strings only a person types; none may appear in anything exported.
  const person = newUser('tracer');
  const reason = `promoted while tracing ${randomUUID()}`;
  let db: TestDatabase;
  let redis: TestRedis;
  let auth: ServiceProcess;
  let user: ServiceProcess;
  let operator: Client<typeof UserService>;
  let accessToken: string;
  let userId: string;

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'tracing' });
    redis = await createTestRedis();
    const endpoint = await receiver.listen();
    const [authPort, userPort] = [await freePort(), await freePort()];
    const common = {
      DATABASE_URL: db.url,
      // ioredis reads options from the URL's query: the key prefix keeps this run's keys apart.
      REDIS_URL: `${redis.url}?keyPrefix=${encodeURIComponent(redis.keyPrefix)}`,
      HEARTH_HOST: '127.0.0.1',
      HEARTH_LOG_LEVEL: 'warn',
      HEARTH_INTERNAL_SECRET: secret,
      HEARTH_TRACING_EXPORTER: 'otlp',
      HEARTH_OTLP_ENDPOINT: endpoint,
    };
    auth = new ServiceProcess('auth', authPort, {
      ...common,
      HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      HEARTH_SERVICE_URLS: `user=http://127.0.0.1:${userPort}`,
    });
    user = new ServiceProcess('user', userPort, {
      ...common,
      HEARTH_SERVICE_URLS: `auth=http://127.0.0.1:${authPort}`,
      HEARTH_AUTH_JWKS_URL: `http://127.0.0.1:${authPort}/.well-known/jwks.json`,
    });
    await Promise.all([auth.ready(), user.ready()]);

    const tokens = new ServiceTokens(secret, 'operator');
    operator = createClient(
      UserService,
      createConnectTransport({
        baseUrl: user.url,
        httpVersion: '1.1',
        interceptors: [
          (next) => async (req) => {
            req.header.set(SERVICE_TOKEN_HEADER, await tokens.token());
            return next(req);
          },
        ],
      }),
    );
    const registered = await createClient(AuthService, createConnectTransport({ baseUrl: auth.url, httpVersion: '1.1' })).register(person);
    accessToken = registered.tokens?.accessToken ?? assert.fail('Register returned no access token');
    // The profile arrives through auth's job queue (UserService.CreateUser).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { profiles } = await operator.listUsers({ handlePrefix: person.handle, pageSize: 10 });
      const found = profiles.find((p) => p.handle === person.handle);
      if (found) {
        userId = found.id;
        break;
      }
      if (Date.now() > deadline) assert.fail('the profile was not created from the new account');
      await delay(200);
    }
  });

  afterAll(async () => {
    await Promise.all([auth?.stop(), user?.stop()]);
    await receiver.close();
    await redis?.flush();
    await redis?.close();
    await db?.drop();
  });

  it('follows an RPC into its SQL, Redis and the other service it calls', async () => {
    const { profiles } = await operator.listUsers({ handlePrefix: person.handle, pageSize: 10 });
    const version = profiles.find((p) => p.id === userId)?.version ?? assert.fail('profile gone');
    // SetUserRoles updates the profile, publishes the change on the bus (Redis) and copies the
    // roles to AuthService.SetAccountAccess before it answers.
    await operator.setUserRoles({ userId, roles: [Role.MODERATOR], version, reason });

    const rpc = await receiver.waitFor('UserService/SetUserRoles', (s) => s.service === 'user' && s.name === 'hearth.user.v1.UserService/SetUserRoles');
    assert.equal(rpc.kind, SERVER);
    assert.equal(rpc.parentSpanId, undefined, 'the call from outside starts the trace');
    const remote = await receiver.waitFor(
      'AuthService/SetAccountAccess in the same trace',
      (s) => s.traceId === rpc.traceId && s.name === 'hearth.auth.v1.AuthService/SetAccountAccess',
    );
    // Spans of one trace arrive in batches from two processes; give the slower one a moment.
    await receiver.waitFor('a pg span in auth', (s) => s.traceId === rpc.traceId && s.service === 'auth' && s.name.startsWith('pg.query'));
    const trace = receiver.spans.filter((s) => s.traceId === rpc.traceId);
    const under = (s: ReceivedSpan, ancestor: ReceivedSpan) => ancestry(trace, s).includes(ancestor);

    const sql = trace.filter((s) => s.service === 'user' && s.name.startsWith('pg.query') && under(s, rpc));
    assert.ok(sql.length > 0, 'the RPC has pg spans');
    const statements = sql.map((s) => String(s.attributes['db.query.text']));
    assert.ok(
      statements.some((q) => /^update\b/i.test(q) && q.includes('$1')),
      `the profile update is recorded as SQL with placeholders: ${statements.join(' | ')}`,
    );
    for (const s of sql) assert.equal(s.attributes['db.postgresql.values'], undefined, 'parameter values are never recorded');

    const commands = trace.filter((s) => s.service === 'user' && s.attributes['db.system.name'] === 'redis' && under(s, rpc));
    assert.ok(
      commands.some((s) => s.name === 'publish'),
      `the change is published on the bus, in Redis: ${trace.map((s) => s.name).join(', ')}`,
    );
    for (const s of commands) assert.equal(s.attributes['db.query.text'], s.name, 'the command only, never its keys or payload');

    const call = trace.find((s) => s.spanId === remote.parentSpanId);
    assert.ok(call, "the other service's RPC span has its parent in this trace");
    assert.equal(call.service, 'user');
    assert.equal(call.kind, CLIENT);
    assert.equal(call.attributes['http.request.method'], 'POST');
    assert.equal(call.parentSpanId, rpc.spanId, 'the HTTP call is made by the RPC');
    assert.equal(remote.service, 'auth');
    assert.equal(remote.kind, SERVER);
    assert.ok(
      trace.some((s) => s.service === 'auth' && s.name.startsWith('pg.query') && under(s, remote)),
      "the other service's SQL is under its RPC",
    );
  });

  it("follows a signed-in call's key fetch into the auth service", async () => {
    // The user service has not verified an access token yet, so this call fetches auth's JWKS.
    const client = createClient(UserService, createConnectTransport({ baseUrl: user.url, httpVersion: '1.1' }));
    const me = await client.getMe({}, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(me.profile?.id, userId);

    const rpc = await receiver.waitFor('UserService/GetMe', (s) => s.service === 'user' && s.name === 'hearth.user.v1.UserService/GetMe');
    const jwks = await receiver.waitFor('the JWKS served by auth', (s) => s.traceId === rpc.traceId && s.service === 'auth' && s.kind === SERVER);
    assert.equal(jwks.attributes['url.path'], '/.well-known/jwks.json');
    const trace = receiver.spans.filter((s) => s.traceId === rpc.traceId);
    const fetchSpan = trace.find((s) => s.spanId === jwks.parentSpanId);
    assert.ok(fetchSpan, 'the JWKS request has its parent in this trace');
    assert.equal(fetchSpan.service, 'user');
    assert.equal(fetchSpan.kind, CLIENT);
    assert.ok(ancestry(trace, fetchSpan).includes(rpc), 'the key fetch is made while authenticating the RPC');
  });

  it('leaves out health probes, metrics and everything people typed', () => {
    assert.ok(receiver.spans.length > 0);
    for (const s of receiver.spans) {
      const path = String(s.attributes['url.path'] ?? '');
      assert.ok(!path.startsWith('/health') && path !== '/metrics', `${s.service} traced ${path}`);
    }
    const exported = receiver.bodies.join('\n');
    for (const typed of [person.email, person.password, person.handle, reason, accessToken]) {
      assert.ok(!exported.includes(typed), `exported spans contain ${typed}`);
    }
  });
});
