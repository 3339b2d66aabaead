// Preloaded by every Hearth process: `node --import @hearth/telemetry/register <entry>` (after
// `--import tsx` when running sources). It must run before the entry imports anything, because
// pg, ioredis and http can only be instrumented as they are loaded: import-in-the-middle's loader
// hook for `import`, require-in-the-middle for `require`. initTracing runs much later, once the
// config is read, and registers the tracer provider the instrumentations then report to.
//
// Config is not loaded yet, so this reads HEARTH_TRACING_EXPORTER itself, trimmed as the config
// reads it. An invalid value counts as off here and stops the process at config validation.
// With tracing off (the default) it does nothing at all: no loader hook, no patched module, no
// OpenTelemetry code loaded, so the request path is exactly what it is without this preload.
import { register } from 'node:module';

const exporter = process.env.HEARTH_TRACING_EXPORTER?.trim();
if (exporter === 'console' || exporter === 'otlp') {
  // Imported before the hook is registered, so the exporter's own http client is never wrapped.
  const { INSTRUMENTED_MODULES, enableInstrumentations } = await import('./tracing.js');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: [...INSTRUMENTED_MODULES] } });
  await enableInstrumentations();
  // The http instrumentation patches each module once, on its first load, and only its ESM path
  // reaches both ways in: the `import` bindings and the CommonJS exports behind them. Should a
  // `require('http')` (Fastify's) come first instead, Connect clients, which `import` node:http,
  // would keep the unpatched request() and never send `traceparent`. So load them here, by import.
  await Promise.all([import('node:http'), import('node:https')]);
}
