import * as http from 'node:http';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { context, trace } from '@opentelemetry/api';
import { initTracing } from '@hearth/telemetry';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createClient } from '@connectrpc/connect';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';

const exp = new InMemorySpanExporter();
const tracing = initTracing({ service: 'smoke', config: { exporter: 'console' }, spanProcessor: new SimpleSpanProcessor({ exporter: exp }) });
console.log('instrumented', tracing.instrumented, (http.request as any).__wrapped);
const server = http.createServer((req, res) => { console.log('traceparent', req.headers.traceparent); res.writeHead(404).end(); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as any).port;
const client = createClient(UserService, createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: '1.1' }));
const root = tracing.tracer.startSpan('root');
await context.with(trace.setSpan(context.active(), root), async () => {
  await client.getMe({}).catch((e) => console.log('err', String(e).slice(0, 60)));
});
root.end();
await new Promise((r) => setTimeout(r, 100));
for (const s of exp.getFinishedSpans()) console.log(s.name, s.kind, s.parentSpanContext?.spanId, s.spanContext().spanId);
server.close(); await tracing.shutdown();
