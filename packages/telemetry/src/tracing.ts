import { type Tracer, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface TracingConfig {
  /** `none` (the default in config) records nothing and registers nothing global. */
  readonly exporter: 'none' | 'console' | 'otlp';
  /** OTLP/HTTP traces endpoint; default http://127.0.0.1:4318/v1/traces. */
  readonly otlpEndpoint?: string;
  /** Share of new (parentless) traces sampled, 0..1; default 1. Incoming sampled flags win. */
  readonly sampleRatio?: number;
}

export interface TracingOptions {
  readonly service: string;
  readonly config: TracingConfig;
  /**
   * Replaces the exporter's span processor (ignored for `none`). Tests pass a SimpleSpanProcessor
   * around an InMemorySpanExporter to see spans without a collector.
   */
  readonly spanProcessor?: SpanProcessor;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** Flushes pending spans and unregisters whatever globals this call registered. */
  shutdown(): Promise<void>;
}

export const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';
const TRACER_NAME = '@hearth/telemetry';

export function initTracing(opts: TracingOptions): Tracing {
  const { config } = opts;
  const ratio = config.sampleRatio ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`tracing sampleRatio must be within 0..1, got ${ratio}`);

  if (config.exporter === 'none') {
    // A provider that samples nothing: spans are non-recording, nothing is exported, no globals.
    const provider = new TracerProvider({ sampler: new AlwaysOffSampler() });
    return { tracer: provider.getTracer(TRACER_NAME), shutdown: () => provider.shutdown() };
  }

  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [opts.spanProcessor ?? processorFor(config)],
  });

  // Globals make spans active across awaits (so child spans nest) and let outgoing clients inject
  // `traceparent`. The OTel API keeps the first registration and refuses later ones, so with
  // several initTracing calls in one process only the first owns them, and only the owner
  // unregisters them on shutdown.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContext = context.setGlobalContextManager(contextManager);
  if (!ownsContext) contextManager.disable();
  const ownsPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const ownsProvider = trace.setGlobalTracerProvider(provider);

  return {
    tracer: provider.getTracer(TRACER_NAME),
    async shutdown() {
      await provider.shutdown();
      if (ownsProvider) trace.disable();
      if (ownsPropagator) propagation.disable();
      if (ownsContext) context.disable();
    },
  };
}

function processorFor(config: TracingConfig): SpanProcessor {
  if (config.exporter === 'console') return new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
  // Batching keeps export off the request path; spans still pending are flushed by shutdown().
  return new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.otlpEndpoint ?? DEFAULT_OTLP_ENDPOINT }) });
}
