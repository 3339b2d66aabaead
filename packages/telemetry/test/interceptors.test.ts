import assert from 'node:assert/strict';
import { afterAll, beforeEach, describe, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Interceptor, createClient, createRouterTransport } from '@connectrpc/connect';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  type RequestContext,
  createLogger,
  createMetrics,
  errorLoggingInterceptor,
  initTracing,
  requestContextKey,
  telemetryInterceptor,
} from '../src/index.js';
import { EchoService } from './support/echo-service.js';
import { memoryLog } from './support/memory-log.js';

const spans = new InMemorySpanExporter();
const tracing = initTracing({
  service: 'echo',
  config: { exporter: 'console' },
  spanProcessor: new SimpleSpanProcessor({ exporter: spans }),
});
afterAll(() => tracing.shutdown());

const detail = create(StringValueSchema, { value: 'no such echo' });
const seen: RequestContext[] = [];

function setup(interceptors?: (deps: Parameters<typeof telemetryInterceptor>[0]) => Interceptor[]) {
  const log = memoryLog();
  const logger = createLogger({ service: 'echo', destination: log });
  const metrics = createMetrics({ service: 'echo', collectDefault: false });
  const deps = { logger, metrics, tracer: tracing.tracer };
  const transport = createRouterTransport(
    (router) =>
      router.service(EchoService, {
        echo(req, ctx) {
          const rc = ctx.values.get(requestContextKey);
          if (rc) seen.push(rc);
          rc?.logger.info('handling');
          if (req.value === 'boom') throw new Error('db password is x; SELECT * FROM users');
          if (req.value === 'missing') throw new ConnectError('echo not found', Code.NotFound, undefined, [{ desc: StringValueSchema, value: detail }]);
          if (req.value === 'broken') throw new ConnectError('state corrupted', Code.DataLoss);
          if (req.value === 'slow') {
            // Like a driver whose query is cancelled when the call is: it fails with a plain Error.
            return new Promise<never>((_, reject) =>
              ctx.signal.addEventListener('abort', () => reject(new Error('query canceled by driver'))),
            );
          }
          return { value: `echo: ${req.value}` };
        },
        async *count(req) {
          yield { value: '1' };
          yield { value: '2' };
          if (req.value === 'boom') throw new Error('stream died: token=abc');
          yield { value: '3' };
        },
      }),
    { router: { interceptors: interceptors ? interceptors(deps) : [telemetryInterceptor(deps), errorLoggingInterceptor()] } },
  );
  return { log, metrics, client: createClient(EchoService, transport) };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

beforeEach(() => {
  spans.reset();
  seen.length = 0;
});

describe('telemetryInterceptor + errorLoggingInterceptor', () => {
  it('gives handlers a RequestContext and echoes the ids in response headers', async () => {
    const { client, log } = setup();
    let header: Headers | undefined;
    const res = await client.echo(
      { value: 'hi' },
      { headers: { 'x-request-id': 'req-123', 'x-correlation-id': 'flow-9' }, onHeader: (h) => (header = h) },
    );
    assert.equal(res.value, 'echo: hi');
    assert.equal(header?.get('x-request-id'), 'req-123');
    assert.equal(header?.get('x-correlation-id'), 'flow-9');
    assert.equal(seen[0]?.requestId, 'req-123');
    assert.equal(seen[0]?.correlationId, 'flow-9');
    const line = log.lines.find((l) => l.msg === 'handling');
    assert.equal(line?.rpc, 'hearth.test.v1.EchoService/Echo');
    assert.equal(line?.requestId, 'req-123');
    assert.equal(line?.correlationId, 'flow-9');
    assert.equal(line?.service, 'echo');
    assert.match(String(line?.traceId), /^[0-9a-f]{32}$/);
    assert.equal(log.lines.filter((l) => l.msg !== 'handling').length, 0, 'a successful call logs nothing else');
  });

  it('replaces an unsafe request id with a fresh one', async () => {
    const { client } = setup();
    let header: Headers | undefined;
    await client.echo({ value: 'hi' }, { headers: { 'x-request-id': 'evil\tid' }, onHeader: (h) => (header = h) });
    const id = header?.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(header?.get('x-correlation-id'), id);
    assert.equal(seen[0]?.requestId, id);
  });

  it('turns a plain Error into Internal without leaking it, and logs the original at error', async () => {
    const { client, log } = setup();
    const err = await rejection(client.echo({ value: 'boom' }, { headers: { 'x-request-id': 'req-boom' } }));
    assert.equal(err.code, Code.Internal);
    assert.equal(err.rawMessage, 'internal error');
    assert.doesNotMatch(err.message, /password|SELECT/);
    assert.equal(err.metadata.get('x-request-id'), 'req-boom');

    const failures = log.lines.filter((l) => l.msg !== 'handling');
    assert.equal(failures.length, 1, 'logged exactly once');
    const line = failures[0]!;
    assert.equal(line.level, 'error');
    assert.equal(line.code, 'internal');
    assert.equal(line.requestId, 'req-boom');
    assert.equal(line.rpc, 'hearth.test.v1.EchoService/Echo');
    const logged = line.err as { message: string; stack: string };
    assert.equal(logged.message, 'db password is x; SELECT * FROM users');
    assert.match(logged.stack, /interceptors\.test\.ts/);
  });

  it('hands outer interceptors a ConnectError(Internal) whose cause is the original error', async () => {
    // Connect itself also masks non-ConnectErrors today; this checks our conversion directly so it
    // holds whatever the transport does.
    const thrown: unknown[] = [];
    const spy: Interceptor = (next) => async (req) => {
      try {
        return await next(req);
      } catch (err) {
        thrown.push(err);
        throw err;
      }
    };
    const { client } = setup((deps) => [telemetryInterceptor(deps), spy, errorLoggingInterceptor()]);
    await rejection(client.echo({ value: 'boom' }));
    await rejection(client.echo({ value: 'missing' }));
    const [internal, notFound] = thrown;
    assert.ok(internal instanceof ConnectError);
    assert.equal(internal.code, Code.Internal);
    assert.equal(internal.rawMessage, 'internal error');
    assert.equal(internal.details.length, 0);
    assert.ok(internal.cause instanceof Error && /password/.test(internal.cause.message));
    assert.ok(notFound instanceof ConnectError);
    assert.equal(notFound.rawMessage, 'echo not found', 'ConnectErrors are not replaced');
    assert.equal(notFound.details.length, 1);
  });

  it('passes a ConnectError through unchanged, details included, and logs it at warn', async () => {
    const { client, log } = setup();
    const err = await rejection(client.echo({ value: 'missing' }, { headers: { 'x-request-id': 'req-nf' } }));
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, 'echo not found');
    assert.deepEqual(
      err.findDetails(StringValueSchema).map((d) => d.value),
      ['no such echo'],
    );
    assert.equal(err.metadata.get('x-request-id'), 'req-nf');
    const failures = log.lines.filter((l) => l.msg !== 'handling');
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.level, 'warn');
    assert.equal(failures[0]!.code, 'not_found');
    assert.equal(failures[0]!.error, 'echo not found');
    assert.equal(failures[0]!.requestId, 'req-nf');
  });

  it('logs server-fault codes at error', async () => {
    const { client, log } = setup();
    const err = await rejection(client.echo({ value: 'broken' }));
    assert.equal(err.code, Code.DataLoss);
    const failure = log.lines.find((l) => l.msg !== 'handling');
    assert.equal(failure?.level, 'error');
    assert.equal(failure?.code, 'data_loss');
  });

  it('logs a handler failing because the client cancelled as canceled, at warn', async () => {
    const { client, log, metrics } = setup();
    const abort = new AbortController();
    const call = client.echo({ value: 'slow' }, { signal: abort.signal, headers: { 'x-request-id': 'req-gone' } });
    setTimeout(() => abort.abort(), 20);
    assert.equal((await rejection(call)).code, Code.Canceled);
    // The server side finishes after the client has already given up.
    for (let i = 0; i < 100 && !log.lines.some((l) => l.msg !== 'handling'); i++) await new Promise((r) => setTimeout(r, 5));
    const failure = log.lines.find((l) => l.msg !== 'handling');
    assert.equal(failure?.level, 'warn');
    assert.equal(failure?.code, 'canceled');
    assert.equal(failure?.error, 'query canceled by driver');
    assert.equal(failure?.requestId, 'req-gone');
    assert.match((await metrics.render()).body, /method="Echo",code="canceled"\} 1$/m);
  });

  it('counts calls by service, method and code', async () => {
    const { client, metrics } = setup();
    await client.echo({ value: 'a' });
    await client.echo({ value: 'b' });
    await rejection(client.echo({ value: 'missing' }));
    await rejection(client.echo({ value: 'boom' }));
    const { body } = await metrics.render();
    const line = (code: string, n: number) =>
      new RegExp(`^hearth_rpc_requests_total\\{service="hearth\\.test\\.v1\\.EchoService",method="Echo",code="${code}"\\} ${n}$`, 'm');
    assert.match(body, line('ok', 2));
    assert.match(body, line('not_found', 1));
    assert.match(body, line('internal', 1));
    assert.match(body, /^hearth_rpc_duration_seconds_count\{service="hearth\.test\.v1\.EchoService",method="Echo",code="ok"\} 2$/m);
  });

  it('records a server span that continues an incoming traceparent', async () => {
    const { client } = setup();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpanId = '00f067aa0ba902b7';
    await client.echo({ value: 'hi' }, { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });
    const [span, ...rest] = spans.getFinishedSpans();
    assert.equal(rest.length, 0);
    assert.ok(span);
    assert.equal(span.name, 'hearth.test.v1.EchoService/Echo');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.parentSpanContext?.spanId, parentSpanId);
    assert.equal(span.attributes['rpc.system'], 'connect_rpc');
    assert.equal(span.attributes['rpc.service'], 'hearth.test.v1.EchoService');
    assert.equal(span.attributes['rpc.method'], 'Echo');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.resource.attributes['service.name'], 'echo');
  });

  it('starts a new trace without traceparent and marks failed spans as errors', async () => {
    const { client } = setup();
    await rejection(client.echo({ value: 'missing' }));
    const [span] = spans.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.parentSpanContext, undefined);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'not_found');
    assert.equal(span.attributes['rpc.connect_rpc.error_code'], 'not_found');
  });

  it('measures a server stream until it ends', async () => {
    const { client, metrics, log } = setup();
    const got: string[] = [];
    for await (const msg of client.count({ value: 'go' })) got.push(msg.value);
    assert.deepEqual(got, ['1', '2', '3']);
    const { body } = await metrics.render();
    assert.match(body, /^hearth_rpc_requests_total\{service="hearth\.test\.v1\.EchoService",method="Count",code="ok"\} 1$/m);
    assert.equal(spans.getFinishedSpans()[0]?.name, 'hearth.test.v1.EchoService/Count');
    assert.equal(log.lines.length, 0);
  });

  it('converts and logs an error thrown mid-stream', async () => {
    const { client, metrics, log } = setup();
    const got: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const msg of client.count({ value: 'boom' }, { headers: { 'x-request-id': 'req-stream' } })) got.push(msg.value);
      })(),
    );
    assert.deepEqual(got, ['1', '2']);
    assert.equal(err.code, Code.Internal);
    assert.doesNotMatch(err.message, /token/);
    assert.equal(err.metadata.get('x-request-id'), 'req-stream');
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]!.level, 'error');
    assert.equal(log.lines[0]!.requestId, 'req-stream');
    assert.equal((log.lines[0]!.err as { message: string }).message, 'stream died: token=abc');
    const { body } = await metrics.render();
    assert.match(body, /^hearth_rpc_requests_total\{service="hearth\.test\.v1\.EchoService",method="Count",code="internal"\} 1$/m);
    assert.equal(spans.getFinishedSpans()[0]?.status.code, SpanStatusCode.ERROR);
  });

  it('refuses to run errorLoggingInterceptor without telemetryInterceptor', async () => {
    const { client } = setup(() => [errorLoggingInterceptor()]);
    const err = await rejection(client.echo({ value: 'hi' }));
    assert.equal(err.code, Code.Internal);
    assert.equal(seen.length, 0, 'the handler never ran');
  });
});
