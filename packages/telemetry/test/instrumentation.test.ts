import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import { promisify } from 'node:util';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ignoreIncomingRequest } from '../src/index.js';

interface ProbeSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code: SpanStatusCode; message?: string };
  events: Array<{ name: string; attributes?: Record<string, unknown> }>;
}

interface ProbeReport {
  instrumented: boolean;
  wrapped: { http: boolean; pg: boolean; ioredis: boolean };
  traceparents: Record<string, string | null>;
  spans: ProbeSpan[];
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const probe = fileURLToPath(new URL('./support/instrumented-probe.ts', import.meta.url));

describe('ignoreIncomingRequest', () => {
  it('leaves health probes, /metrics and RPCs to others', () => {
    for (const url of [
      '/health/live',
      '/health/ready',
      '/metrics',
      '/metrics?name[]=x',
      '/hearth.user.v1.UserService/GetMe',
      '/hearth.auth.v1.AuthService/Login?connect=v1&encoding=json&message=e30',
      '/grpc.health.v1.Health/Check',
    ]) {
      assert.equal(ignoreIncomingRequest({ url }), true, url);
    }
  });

  it('traces every other route', () => {
    for (const url of ['/', '/.well-known/jwks.json', '/v1/realtime', '/healthz', '/metrics/x', '/hearth.user.v1.UserService', '/a/b/c', undefined]) {
      assert.equal(ignoreIncomingRequest({ url }), false, String(url));
    }
  });
});

describe('@hearth/telemetry/register', () => {
  // Something only a person would write: it must never reach a span.
  const secret = `words a person typed ${randomUUID()}`;
  // The probe only reads constants from Postgres and sets (then deletes) one key of its own in
  // Redis, so the machine's servers are enough and nothing needs cleaning up.
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `hearth_t:${randomBytes(6).toString('hex')}:`;

  /** Runs the probe as a service runs: sources through tsx, then the preload. */
  async function runProbe(exporter: string | undefined): Promise<{ report: ProbeReport; stdout: string; stderr: string }> {
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      PROBE_KEY_PREFIX: keyPrefix,
      PROBE_SECRET: secret,
      HEARTH_TRACING_EXPORTER: exporter,
    };
    const args = ['--conditions=@hearth/source', '--import', 'tsx', '--import', '@hearth/telemetry/register', probe];
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: packageDir, env, timeout: 60_000 });
    return { report: JSON.parse(stdout) as ProbeReport, stdout, stderr };
  }

  for (const exporter of [undefined, 'none', ' bogus ']) {
    it(`patches nothing and registers no loader hook when HEARTH_TRACING_EXPORTER is ${JSON.stringify(exporter)}`, async () => {
      const { report, stderr } = await runProbe(exporter);
      assert.deepEqual(report.wrapped, { http: false, pg: false, ioredis: false });
      assert.equal(report.instrumented, false);
      assert.deepEqual(report.spans, []);
      assert.deepEqual(Object.values(report.traceparents), [null, null, null, null, null]);
      // module.register() warns that it is deprecated on Node 26: no warning, no hook.
      assert.doesNotMatch(stderr, /DEP0205/);
    });
  }

  describe('with tracing on', () => {
    let report: ProbeReport;
    let stdout: string;
    let spans: ProbeSpan[];
    let root: ProbeSpan;

    beforeAll(async () => {
      ({ report, stdout } = await runProbe('console'));
      spans = report.spans;
      root = spans.find((s) => s.name === 'probe') ?? assert.fail('no probe span');
    });

    it('instruments http, pg and ioredis, and every span joins the active trace', () => {
      assert.deepEqual(report.wrapped, { http: true, pg: true, ioredis: true });
      assert.equal(report.instrumented, true);
      for (const s of spans) assert.equal(s.traceId, root.traceId, s.name);
    });

    it('records SQL text with its placeholders, never the values', () => {
      const queries = spans.filter((s) => s.name.startsWith('pg.query'));
      assert.deepEqual(
        queries.map((s) => s.attributes['db.query.text']),
        ['select $1::text as said', 'select $1::uuid as id'],
      );
      for (const s of queries) {
        assert.equal(s.parentSpanId, root.spanId);
        assert.equal(s.attributes['db.postgresql.values'], undefined);
      }
    });

    it("replaces a failed query's message, which can quote a value, with its SQLSTATE", () => {
      const failed = spans.find((s) => s.attributes['db.query.text'] === 'select $1::uuid as id');
      assert.equal(failed?.status.code, SpanStatusCode.ERROR);
      assert.match(failed?.status.message ?? '', /22P02/);
    });

    it('records Redis command names, never keys or values', () => {
      const commands = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
      assert.deepEqual(
        commands.map((s) => [s.name, s.attributes['db.query.text']]),
        [
          ['set', 'set'],
          ['del', 'del'],
        ],
      );
    });

    it('sends traceparent from http and fetch clients, also after a require() of node:http came first', () => {
      const clients = spans.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['http.request.method'] !== undefined);
      assert.equal(clients.length, 5);
      for (const [path, header] of Object.entries(report.traceparents)) {
        assert.match(header ?? '', new RegExp(`^00-${root.traceId}-[0-9a-f]{16}-01$`), path);
      }
    });

    it('makes server spans for plain routes only: not for health probes, /metrics or RPCs', () => {
      const served = spans.filter((s) => s.kind === SpanKind.SERVER).map((s) => s.attributes['url.path']);
      assert.deepEqual(served.sort(), ['/.well-known/jwks.json', '/fetched']);
    });

    it('exports nothing a person wrote', () => {
      assert.ok(!stdout.includes(secret));
    });
  });
});
