import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import { type ConnectRouter, type Interceptor, cors as connectCors } from '@connectrpc/connect';
import { createValidateInterceptor } from '@connectrpc/validate';
import type { ConfigOf, sharedSpec } from '@hearth/config';
import { type Metrics, errorLoggingInterceptor, sanitizeId, telemetryInterceptor } from '@hearth/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import { mountConnect } from './connect-mount.js';
import { type HealthState, type ReadinessCheck, registerHealthRoutes } from './health.js';

/** What one service contributes to a server: its Connect handlers and any plain-HTTP routes. */
export interface ServiceMount {
  readonly name: string;
  /** Registers the service's Connect handlers; methods left out answer Unimplemented. */
  routes(router: ConnectRouter): void;
  /** Plain-HTTP routes outside Connect (the JWKS document, the realtime WebSocket). */
  http?(app: FastifyInstance): void | Promise<void>;
}

export type ServerConfig = ConfigOf<typeof sharedSpec>['server'];
export type TelemetryDeps = Parameters<typeof telemetryInterceptor>[0];

export interface ServerOptions {
  readonly server: ServerConfig;
  readonly telemetry: TelemetryDeps;
  readonly mounts: readonly ServiceMount[];
  readonly readiness?: readonly ReadinessCheck[];
  /**
   * The authentication hook point: runs after telemetry and error logging and before request
   * validation, so an anonymous caller learns nothing about the request shape.
   */
  readonly authenticate?: Interceptor;
  /**
   * The authorization hook point: right after authentication, before request validation, so a
   * non-member learns nothing about a private circle from validation errors either.
   */
  readonly authorize?: Interceptor;
}

export interface HearthServer {
  readonly app: FastifyInstance;
  /** Starts listening; resolves to the base URL (useful with port 0). */
  listen(): Promise<string>;
  /** Fails readiness, waits the drain delay, lets in-flight requests finish, then closes. */
  close(): Promise<void>;
}

// Headers browsers may send and read beyond Connect's own.
const APP_REQUEST_HEADERS = ['Authorization', 'X-Request-Id', 'X-Correlation-Id', 'X-CSRF-Token'];
const APP_RESPONSE_HEADERS = ['X-Request-Id', 'X-Correlation-Id', 'Retry-After'];

/**
 * Builds the Fastify app every Hearth process serves: security headers, CORS, health, metrics,
 * and the Connect routes of the given services behind interceptors in a fixed order:
 * telemetry -> error logging -> authentication -> authorization -> protovalidate.
 */
export async function createServer(opts: ServerOptions): Promise<HearthServer> {
  const { server: cfg, telemetry } = opts;
  const state: HealthState = { draining: false };
  const app = Fastify({
    loggerInstance: telemetry.logger as FastifyBaseLogger,
    // RPC outcomes are logged by the interceptors; per-request access lines would double them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: cfg.bodyLimitBytes,
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return sanitizeId(typeof header === 'string' ? header : undefined) ?? randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  await app.register(helmet, {
    // An API, not pages: forbid everything a browser could do with a response.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  await app.register(cors, {
    origin: cfg.corsOrigins.length === 0 ? false : cfg.corsOrigins,
    credentials: true,
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, ...APP_REQUEST_HEADERS],
    exposedHeaders: [...connectCors.exposedHeaders, ...APP_RESPONSE_HEADERS],
    maxAge: 7200,
  });

  registerHealthRoutes(app, opts.readiness ?? [], state);
  registerMetrics(app, telemetry.metrics);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not found', path: req.url.split('?')[0] }));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'unhandled error in HTTP route');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  const interceptors: Interceptor[] = [
    telemetryInterceptor(telemetry),
    errorLoggingInterceptor(),
    ...(opts.authenticate ? [opts.authenticate] : []),
    ...(opts.authorize ? [opts.authorize] : []),
    createValidateInterceptor(),
  ];
  mountConnect(app, {
    routes: (router) => {
      for (const mount of opts.mounts) mount.routes(router);
    },
    interceptors,
    readMaxBytes: cfg.bodyLimitBytes,
    shutdownTimeoutMs: cfg.shutdownGraceMs,
  });
  for (const mount of opts.mounts) await mount.http?.(app);

  return {
    app,
    async listen() {
      return app.listen({ host: cfg.host, port: cfg.port });
    },
    async close() {
      state.draining = true;
      if (cfg.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, cfg.drainDelayMs));
      // Node closes idle keep-alive sockets only at the moment close() is called; a socket whose
      // request finishes during the drain would hold the server open, so sweep until closed.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
    },
  };
}

function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
}
