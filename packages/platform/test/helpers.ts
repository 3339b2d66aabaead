import type { ConnectRouter } from '@connectrpc/connect';
import type { Logger, Metrics } from '@hearth/telemetry';
import { errorLoggingInterceptor, initTracing, telemetryInterceptor } from '@hearth/telemetry';
import {
  type HearthServer,
  type ReadinessCheck,
  type ServerConfig,
  type ServiceModule,
  createServer,
  inputInterceptor,
  knownErrorsInterceptor,
  validationInterceptor,
} from '../src/index.js';

/** A module with nothing but Connect routes, for server tests. */
export function routesModule(name: ServiceModule['name'], routes: (router: ConnectRouter) => void): ServiceModule {
  return {
    name,
    rules: [],
    routes,
    readiness: [],
    migrate: async () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
    close: async () => undefined,
  };
}

/**
 * A listening server with the request pipeline minus authentication and authorization (those
 * have their own tests in @hearth/authz and the authorization matrix).
 */
export async function startServer(opts: {
  config: ServerConfig;
  logger: Logger;
  metrics: Metrics;
  readiness?: ReadinessCheck[];
  name: ServiceModule['name'];
  routes: (router: ConnectRouter) => void;
}): Promise<HearthServer> {
  const { tracer } = initTracing({ service: 't', config: { exporter: 'none' } });
  return createServer({
    server: opts.config,
    logger: opts.logger,
    metrics: opts.metrics,
    modules: [routesModule(opts.name, opts.routes)],
    readiness: opts.readiness ?? [],
    interceptors: [
      telemetryInterceptor({ logger: opts.logger, metrics: opts.metrics, tracer }),
      errorLoggingInterceptor(),
      knownErrorsInterceptor(),
      inputInterceptor(),
      validationInterceptor(),
    ],
  });
}
