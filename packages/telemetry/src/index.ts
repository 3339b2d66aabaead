export { type Logger, type LoggerOptions, REDACTED, createLogger, redactPaths } from './logger.js';
export {
  CORRELATION_ID_HEADER,
  LazyRequestContext,
  REQUEST_ID_HEADER,
  type RequestContext,
  getRequestContext,
  requestContextKey,
  requestIdsFrom,
  sanitizeId,
} from './request-context.js';
export { type Metrics, type MetricsOptions, RPC_DURATION_BUCKETS, createMetrics } from './metrics.js';
export { DEFAULT_OTLP_ENDPOINT, type Tracing, type TracingConfig, type TracingOptions, initTracing } from './tracing.js';
export { INSTRUMENTED_MODULES, enableInstrumentations, ignoreIncomingRequest } from './tracing.js';
export { codeName, logLevelFor } from './codes.js';
export { type TelemetryDeps, telemetryInterceptor } from './telemetry-interceptor.js';
export { INTERNAL_ERROR_MESSAGE, errorLoggingInterceptor } from './error-logging-interceptor.js';
export type { Tracer } from '@opentelemetry/api';
