// Run by instrumentation.test.ts as its own process, preloaded with @hearth/telemetry/register
// like a service, with HEARTH_TRACING_EXPORTER as the test sets it. It uses each instrumented
// library once inside one span and prints what was patched, what was recorded and which
// `traceparent` headers arrived, as one JSON line.
import './require-http.js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Redis } from 'ioredis';
import pg from 'pg';
import { initTracing } from '../../src/index.js';

const env = (name: string): string => process.env[name] ?? '';
const wrapped = (fn: unknown): boolean => typeof fn === 'function' && '__wrapped' in fn;

const spans = new InMemorySpanExporter();
const exporter = env('HEARTH_TRACING_EXPORTER') === 'console' ? 'console' : 'none';
const tracing = initTracing({ service: 'probe', config: { exporter }, spanProcessor: new SimpleSpanProcessor({ exporter: spans }) });

const traceparents: Record<string, string | null> = {};
const server = http.createServer((req, res) => {
  const header = req.headers.traceparent;
  traceparents[req.url ?? ''] = typeof header === 'string' ? header : null;
  res.end('{}');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const get = (path: string) =>
  new Promise<void>((resolve, reject) => {
    http
      .request(`${base}${path}`, { method: 'POST' }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject)
      .end();
  });

const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 1 });
const redis = new Redis(env('REDIS_URL'), { keyPrefix: env('PROBE_KEY_PREFIX'), maxRetriesPerRequest: 1 });
const secret = env('PROBE_SECRET');

const root = tracing.tracer.startSpan('probe');
await context.with(trace.setSpan(context.active(), root), async () => {
  await pool.query('select $1::text as said', [secret]);
  await pool.query('select $1::uuid as id', [secret]).catch(() => undefined);
  await redis.set('probe', secret);
  await redis.del('probe');
  for (const path of ['/health/live', '/metrics', '/hearth.test.v1.EchoService/Echo', '/.well-known/jwks.json']) await get(path);
  await (await fetch(`${base}/fetched`)).text();
});
root.end();

await Promise.all([pool.end(), redis.quit(), new Promise((resolve) => server.close(resolve))]);
// Read before shutdown, which empties the exporter.
const finished = spans.getFinishedSpans();
await tracing.shutdown();
process.stdout.write(
  `${JSON.stringify({
    instrumented: tracing.instrumented,
    wrapped: {
      http: wrapped(http.request),
      pg: wrapped(pg.Client.prototype.query),
      ioredis: wrapped((Redis.prototype as unknown as Record<string, unknown>).sendCommand),
    },
    traceparents,
    spans: finished.map((s) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId,
      attributes: s.attributes,
      status: s.status,
      events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
    })),
  })}\n`,
);
