import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { initTracing } from '../src/index.js';

const fields = () => propagation.fields();

describe('initTracing', () => {
  it("'none' gives a tracer that records nothing and registers no globals", async () => {
    const tracing = initTracing({ service: 't', config: { exporter: 'none' } });
    const span = tracing.tracer.startSpan('x');
    assert.equal(span.isRecording(), false);
    span.end();
    assert.deepEqual(fields(), []);
    // No context manager: an active context does not survive into the callback.
    const key = Symbol('k');
    context.with(ROOT_CONTEXT.setValue(key, 1), () => assert.equal(context.active().getValue(key), undefined));
    await tracing.shutdown();
  });

  it('registers W3C propagation and async context while running, and removes them on shutdown', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = initTracing({
      service: 't',
      config: { exporter: 'console' },
      spanProcessor: new SimpleSpanProcessor({ exporter }),
    });
    assert.deepEqual(fields(), ['traceparent', 'tracestate']);
    const parent = tracing.tracer.startSpan('parent');
    await context.with(trace.setSpan(context.active(), parent), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      trace.getTracer('other').startSpan('child').end();
    });
    parent.end();
    const [child, p] = exporter.getFinishedSpans();
    assert.equal(child?.name, 'child');
    assert.equal(child?.parentSpanContext?.spanId, p?.spanContext().spanId);
    await tracing.shutdown();
    assert.deepEqual(fields(), []);
  });

  it('samples new traces by ratio and follows the parent decision', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = initTracing({
      service: 't',
      config: { exporter: 'console', sampleRatio: 0 },
      spanProcessor: new SimpleSpanProcessor({ exporter }),
    });
    assert.equal(tracing.tracer.startSpan('root').isRecording(), false);
    const sampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    assert.equal(tracing.tracer.startSpan('child', {}, sampledParent).isRecording(), true);
    await tracing.shutdown();
  });

  it('rejects a sample ratio outside 0..1', () => {
    assert.throws(() => initTracing({ service: 't', config: { exporter: 'otlp', sampleRatio: 2 } }), RangeError);
  });

  it("'otlp' builds a batch exporter and shuts down cleanly with nothing to send", async () => {
    const tracing = initTracing({ service: 't', config: { exporter: 'otlp', otlpEndpoint: 'http://127.0.0.1:9/v1/traces' } });
    assert.equal(tracing.tracer.startSpan('x').isRecording(), true);
    await tracing.shutdown();
  });
});
