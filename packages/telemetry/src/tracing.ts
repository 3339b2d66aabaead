import type { IncomingMessage } from 'node:http';
import { SpanStatusCode, type Tracer, context, propagation, trace } from '@opentelemetry/api';
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
  type Span,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_DB_SYSTEM_NAME,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_SERVICE_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';

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
  /**
   * Whether pg, ioredis, http and undici are instrumented in this process, i.e. it was started
   * with `--import @hearth/telemetry/register` and tracing on. When false, traces hold only the
   * RPC spans of telemetryInterceptor.
   */
  readonly instrumented: boolean;
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
    return {
      tracer: provider.getTracer(TRACER_NAME),
      get instrumented() {
        return instrumentationsEnabled;
      },
      shutdown: () => provider.shutdown(),
    };
  }

  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    // The scrubber first: its onEnding runs before any processor hands the span on.
    spanProcessors: [scrubber, opts.spanProcessor ?? processorFor(config)],
  });

  // Globals make spans active across awaits (so child spans nest) and let outgoing clients inject
  // `traceparent`. The global provider is also how the instrumentations enabled by
  // `@hearth/telemetry/register` find this one: they were made before it existed, with tracers
  // from the global API, which hand their spans to whichever provider is registered here. The OTel API keeps the first registration and refuses later ones, so with
  // several initTracing calls in one process only the first owns them, and only the owner
  // unregisters them on shutdown.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContext = context.setGlobalContextManager(contextManager);
  if (!ownsContext) contextManager.disable();
  const ownsPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const ownsProvider = trace.setGlobalTracerProvider(provider);

  return {
    tracer: provider.getTracer(TRACER_NAME),
    get instrumented() {
      return instrumentationsEnabled;
    },
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

/**
 * The pg instrumentation copies a failed query's error message into the span's status, and a
 * Postgres message can quote the value it refused (`invalid input syntax for type uuid: "..."`).
 * Its exception event already carries a sanitized form (error class and SQLSTATE, no message),
 * so the status gets that too. onEnding runs while the span can still be changed (sdk-trace
 * calls the hook experimental, hence its exact version in package.json).
 */
const scrubber: SpanProcessor = {
  onStart: () => undefined,
  onEnding(span: Span) {
    if (span.status.code !== SpanStatusCode.ERROR || span.attributes[ATTR_DB_SYSTEM_NAME] !== DB_SYSTEM_NAME_VALUE_POSTGRESQL) return;
    const sanitized = span.events.find((e) => e.name === 'exception')?.attributes?.[ATTR_EXCEPTION_MESSAGE];
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof sanitized === 'string' ? sanitized : 'query failed' });
  },
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * What the ESM loader hook (import-in-the-middle) wraps; every other import passes through it
 * untouched. undici needs no hook: its instrumentation listens on diagnostics_channel, which also
 * sees Node's own fetch().
 */
export const INSTRUMENTED_MODULES: readonly string[] = ['http', 'https', 'pg', 'pg-pool', 'ioredis'];

// Connect, gRPC and gRPC-web calls: `/<package>.<Service>/<Method>`.
const RPC_PATH = /^\/[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;

/**
 * Incoming requests the http instrumentation leaves alone (it also suppresses tracing for them):
 *
 * - health probes and /metrics: scraped every few seconds, they would bury the traces that matter;
 * - RPCs: telemetryInterceptor makes their server span and continues the caller's `traceparent`.
 *   It starts from the request's headers, not from the active context, so an http server span as
 *   well would be its sibling, or for a call without `traceparent` a second, separate trace. (It
 *   would also record the query string, which for a Connect GET holds the request message.)
 *
 * What is left are plain routes such as /.well-known/jwks.json.
 */
export function ignoreIncomingRequest(req: Pick<IncomingMessage, 'url'>): boolean {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  return path === '/metrics' || path.startsWith('/health/') || RPC_PATH.test(path);
}

// The instrumentations patch modules for the whole process, so whether they are on is
// process-wide too.
let instrumentationsEnabled = false;

/**
 * Instruments pg, ioredis, http (Connect clients, Fastify's server) and undici (fetch: the JWKS,
 * OAuth providers) for this process. Called by `@hearth/telemetry/register` before anything
 * imports those modules, and only when tracing is on, because a patched module stays patched.
 * Their spans go to the provider initTracing registers globally; until then the global API hands
 * them a tracer that records nothing. Returns a function that turns them off again.
 */
export async function enableInstrumentations(): Promise<() => void> {
  // Loaded here, not at the top: services import this module whether or not tracing is on.
  const [{ registerInstrumentations }, { HttpInstrumentation }, { UndiciInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
    ]);
  // Client-side spans only inside a traced operation: job polling, the deny-list's refresh and
  // other background work would otherwise start a trace for every query.
  const unregister = registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: ignoreIncomingRequest,
        requireParentforOutgoingSpans: true,
        // No headersToSpanAttributes: headers carry tokens and cookies.
      }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new PgInstrumentation({
        requireParentSpan: true,
        // The statement text (kysely's SQL, with $1.. placeholders) is kept as db.query.text;
        // the parameter values, which hold what people wrote, are never recorded.
        enhancedDatabaseReporting: false,
      }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command name only: keys and arguments hold session ids, hashed emails, IPs and
        // published events.
        dbStatementSerializer: (command) => command,
      }),
    ],
  });
  instrumentationsEnabled = true;
  return () => {
    unregister();
    instrumentationsEnabled = false;
  };
}
