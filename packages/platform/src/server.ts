import cors from '@fastify/cors';
import helmet from 'helmet';
import { type Interceptor, cors as connectCors } from '@connectrpc/connect';
import { type Metrics, sanitizeId } from '@hearth/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mountConnect } from './connect-mount.js';
import type { ReadinessCheck, ServiceModule, SharedConfig } from './contract.js';
import { type HealthState, registerHealthRoutes } from './health.js';

export type ServerConfig = SharedConfig['server'];

export interface ServerOptions {
  readonly server: ServerConfig;
  readonly logger: FastifyBaseLogger;
  readonly metrics: Metrics;
  readonly modules: readonly ServiceModule[];
  readonly readiness: readonly ReadinessCheck[];
  /** Every RPC's interceptors, outermost first (see createRequestPipeline). */
  readonly interceptors: readonly Interceptor[];
}

export interface HearthServer {
  readonly app: FastifyInstance;
  /** Starts listening; resolves to the base URL (useful with port 0). */
  listen(): Promise<string>;
  /**
   * The first step of shutdown: readiness fails (load balancers stop routing here), and every
   * response from now on carries `Connection: close`, so clients take their next request to
   * another instance instead of reusing a connection that is about to go.
   */
  drain(): void;
  /** Stops listening, lets in-flight requests finish (up to the grace), closes every connection. */
  close(): Promise<void>;
}

// Headers browsers may send and read beyond Connect's own.
const APP_REQUEST_HEADERS = ['Authorization', 'X-Request-Id', 'X-Correlation-Id', 'X-CSRF-Token'];
const APP_RESPONSE_HEADERS = ['X-Request-Id', 'X-Correlation-Id', 'Retry-After'];

/**
 * The security headers of every response, as helmet sets them. They do not depend on the
 * request, so helmet runs once, here, instead of once per request (@fastify/helmet rebuilds
 * helmet, Content-Security-Policy parsing included, for every request).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = (() => {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  const middleware = helmet({
    // An API, not pages: forbid everything a browser could do with a response.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  let ran = false;
  middleware({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    ran = true;
  });
  if (!ran) throw new Error('helmet did not finish synchronously');
  return Object.freeze(headers);
})();

/**
 * The Fastify app every Hearth process serves: security headers, CORS, health, metrics, and
 * the Connect routes of the hosted services behind the given interceptors.
 */
export async function createServer(opts: ServerOptions): Promise<HearthServer> {
  const { server: cfg } = opts;
  const state: HealthState = { draining: false };
  const app = Fastify({
    loggerInstance: opts.logger,
    // RPC outcomes are logged by the interceptors; per-request access lines would double them.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, opts) => new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger,
    bodyLimit: cfg.bodyLimitBytes,
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return sanitizeId(typeof header === 'string' ? header : undefined) ?? randomUUID();
    },
    // Behind a proxy every client would otherwise have the proxy's address (per-address limits,
    // session records). Only the configured proxies' X-Forwarded-For is believed.
    trustProxy: cfg.trustedProxies.length > 0 ? [...cfg.trustedProxies] : false,
    // A request that arrives on an open connection while we close is served (with Connection:
    // close), not answered 503: the client sent it before it could know.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });

  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
  await app.register(cors, {
    origin: cfg.corsOrigins.length === 0 ? false : cfg.corsOrigins,
    credentials: true,
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, ...APP_REQUEST_HEADERS],
    exposedHeaders: [...connectCors.exposedHeaders, ...APP_RESPONSE_HEADERS],
    maxAge: 7200,
  });
  app.addHook('onRequest', (_req, reply, done) => {
    if (state.draining) reply.header('connection', 'close');
    done();
  });

  registerHealthRoutes(app, opts.readiness, state);
  registerMetrics(app, opts.metrics);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not found', path: req.url.split('?')[0] }));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'unhandled error in HTTP route');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  mountConnect(app, {
    routes: (router) => {
      for (const m of opts.modules) m.routes(router);
    },
    interceptors: [...opts.interceptors],
    readMaxBytes: cfg.bodyLimitBytes,
    shutdownTimeoutMs: cfg.shutdownGraceMs,
    // Canonical protobuf JSON: an unknown field or enum name is an error, never a silent zero.
    jsonOptions: { ignoreUnknownFields: false },
  });
  for (const m of opts.modules) await m.http?.(app);

  return {
    app,
    async listen() {
      return app.listen({ host: cfg.host, port: cfg.port });
    },
    drain() {
      state.draining = true;
    },
    async close() {
      state.draining = true;
      // Node closes idle keep-alive sockets only at the moment close() is called; a socket whose
      // request finishes afterwards would hold the server open, so sweep until closed.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
    },
  };
}

type LogArgs = [obj: unknown, msg?: string, ...args: unknown[]];

/**
 * `req.log`, bound to the request id only when something logs through it. Fastify binds a pino
 * child for every request, which costs each call the serialisation of its bindings (redaction
 * included); RPCs log through their own RequestContext, so most requests never use this one.
 */
class LazyChildLogger {
  #real: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly opts: object,
  ) {}
  private get logger(): FastifyBaseLogger {
    this.#real ??= this.parent.child(this.bindings, this.opts);
    return this.#real;
  }
  get level(): string {
    return this.#real?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.logger.level = level;
  }
  child(bindings: Record<string, unknown>, opts?: object): FastifyBaseLogger {
    return this.logger.child(bindings, opts);
  }
  fatal(...a: LogArgs): void {
    (this.logger.fatal as (...a: LogArgs) => void)(...a);
  }
  error(...a: LogArgs): void {
    (this.logger.error as (...a: LogArgs) => void)(...a);
  }
  warn(...a: LogArgs): void {
    (this.logger.warn as (...a: LogArgs) => void)(...a);
  }
  info(...a: LogArgs): void {
    (this.logger.info as (...a: LogArgs) => void)(...a);
  }
  debug(...a: LogArgs): void {
    (this.logger.debug as (...a: LogArgs) => void)(...a);
  }
  trace(...a: LogArgs): void {
    (this.logger.trace as (...a: LogArgs) => void)(...a);
  }
  silent(): void {}
}

function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
  // One labelled child per (route, status), made once: prom-client otherwise hashes the labels
  // of every increment.
  const counters = new Map<string, { inc(): void }>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const key = `${reply.statusCode} ${route}`;
    let counter = counters.get(key);
    if (!counter) {
      counter = metrics.httpRequests.labels({ route, status: String(reply.statusCode) });
      counters.set(key, counter);
    }
    counter.inc();
    done();
  });
}
