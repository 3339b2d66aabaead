import { ConnectError, type Interceptor } from '@connectrpc/connect';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  context,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { codeName, codeOf } from './codes.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import {
  CORRELATION_ID_HEADER,
  LazyRequestContext,
  REQUEST_ID_HEADER,
  type RequestContext,
  requestContextKey,
  requestIdsFrom,
} from './request-context.js';
import { observeStream } from './stream.js';

export interface TelemetryDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Absent when tracing is off: no span is made, not even a non-recording one. */
  readonly tracer?: Tracer | undefined;
}

// RPC span attributes as OTel's (incubating) semantic conventions name them for Connect; copied
// rather than imported because the incubating entry point may rename them in a minor release.
const ATTR_RPC_SYSTEM = 'rpc.system';
const ATTR_RPC_SERVICE = 'rpc.service';
const ATTR_RPC_METHOD = 'rpc.method';
const ATTR_RPC_CONNECT_RPC_ERROR_CODE = 'rpc.connect_rpc.error_code';
const RPC_SYSTEM_CONNECT_RPC = 'connect_rpc';

// Owned here rather than taken from the global propagator, so an incoming `traceparent` is
// honoured the same way whether or not (and by whom) globals were registered.
const propagator = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => [...carrier.keys()],
};

/**
 * The outermost server interceptor. For every call it establishes the RequestContext (ids from
 * `x-request-id` / `x-correlation-id`, a tagged child logger), runs the handler inside a server
 * span that continues an incoming W3C `traceparent`, echoes the ids in response headers (on
 * errors via the ConnectError's metadata), and records `hearth_rpc_requests_total` and
 * `hearth_rpc_duration_seconds` with the code name from codeName(): `ok` or the Connect wire name
 * such as `not_found`. Streaming calls are measured until their output stream ends.
 */
export function telemetryInterceptor(deps: TelemetryDeps): Interceptor {
  const { logger, metrics, tracer } = deps;
  // One labelled child per (rpc, code), made once: prom-client otherwise hashes the labels of
  // every observation.
  const children = new Map<string, { requests: { inc(): void }; duration: { observe(v: number): void } }>();
  const series = (service: string, method: string, code: string) => {
    const key = `${service}/${method}/${code}`;
    let c = children.get(key);
    if (!c) {
      const labels = { service, method, code };
      c = { requests: metrics.rpcRequests.labels(labels), duration: metrics.rpcDuration.labels(labels) };
      children.set(key, c);
    }
    return c;
  };
  return (next) => async (req) => {
    const service = req.service.typeName;
    const method = req.method.name;
    const rpc = `${service}/${method}`;
    const started = performance.now();

    let span: Span | undefined;
    let active: Context | undefined;
    if (tracer) {
      const parent = propagator.extract(ROOT_CONTEXT, req.header, headerGetter);
      span = tracer.startSpan(
        rpc,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_RPC_SYSTEM]: RPC_SYSTEM_CONNECT_RPC, [ATTR_RPC_SERVICE]: service, [ATTR_RPC_METHOD]: method },
        },
        parent,
      );
      active = trace.setSpan(parent, span);
    }

    const { requestId, correlationId } = requestIdsFrom(req.header);
    const traceId = span?.isRecording() ? span.spanContext().traceId : undefined;
    const rc: RequestContext = new LazyRequestContext(requestId, correlationId, logger, traceId ? { rpc, traceId } : { rpc });
    req.contextValues.set(requestContextKey, rc);

    const finish = (err?: unknown): void => {
      const code = codeName(err === undefined ? undefined : codeOf(err));
      const m = series(service, method, code);
      m.requests.inc();
      m.duration.observe((performance.now() - started) / 1000);
      if (span) endSpan(span, err, code);
    };

    try {
      const res = await (active ? context.with(active, () => next(req)) : next(req));
      res.header.set(REQUEST_ID_HEADER, requestId);
      res.header.set(CORRELATION_ID_HEADER, correlationId);
      if (!res.stream) {
        finish();
        return res;
      }
      const message = observeStream(res.message, {
        ...(active ? { around: <R>(pull: () => R): R => context.with(active, pull) } : {}),
        // The ids already went out in the stream's headers; no need to repeat them in trailers.
        onEnd: finish,
      });
      return { ...res, message };
    } catch (err) {
      if (err instanceof ConnectError) tagIds(err, requestId, correlationId);
      finish(err);
      throw err;
    }
  };
}

function tagIds(err: ConnectError, requestId: string, correlationId: string): void {
  err.metadata.set(REQUEST_ID_HEADER, requestId);
  err.metadata.set(CORRELATION_ID_HEADER, correlationId);
}

function endSpan(span: Span, err: unknown, code: string): void {
  if (err !== undefined) {
    span.setAttribute(ATTR_RPC_CONNECT_RPC_ERROR_CODE, code);
    // Only the code: an error message can carry internals, and the log line has the details.
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }
  span.end();
}
