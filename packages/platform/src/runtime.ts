import type { ConfigOf, sharedSpec } from '@hearth/config';
import { type Logger, type Metrics, createLogger, createMetrics, initTracing } from '@hearth/telemetry';
import { Redis } from 'ioredis';
import type { AuthorizationSources, ServiceTokens } from '@hearth/authz';
import type { HostAuthentication } from './authentication.js';
import { type EventBus, postgresBus, redisBus } from './bus.js';
import type { ServiceClientFactory } from './service-clients.js';
import type { TelemetryDeps } from './server.js';

export type SharedConfig = ConfigOf<typeof sharedSpec>;

/**
 * What one process shares among the services it hosts: logging, metrics, tracing and the
 * optional Redis connection. Built once per process (one service, or all in monolith mode).
 */
export interface BaseRuntime {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly telemetry: TelemetryDeps;
  /** Absent when REDIS_URL is not configured: callers fall back to Postgres or memory. */
  readonly redis: Redis | undefined;
  /** Live events between processes (Redis pub/sub, else Postgres LISTEN/NOTIFY); may lose events. */
  readonly bus: EventBus;
  close(): Promise<void>;
}

/** What a host hands to the services it creates: the process's runtime and its authentication. */
export interface Runtime extends BaseRuntime {
  /** Absent only when the host's authentication was replaced (HostOptions.authenticate). */
  readonly authentication: HostAuthentication | undefined;
  /** Connect clients for the other Hearth services, calling as this process's service identity. */
  readonly serviceClient: ServiceClientFactory;
  /** Mints this process's service tokens (for callers that are not Connect clients). */
  readonly serviceTokens: ServiceTokens;
  /** Cached answers about circle membership and blocks, shared by the process's services. */
  readonly authorization: AuthorizationSources;
}

export interface RuntimeOverrides {
  readonly logger?: Logger;
  readonly redis?: Redis;
  readonly bus?: EventBus;
}

export function createRuntime(name: string, cfg: SharedConfig, overrides: RuntimeOverrides = {}): BaseRuntime {
  const logger = overrides.logger ?? createLogger({ service: name, level: cfg.telemetry.logLevel });
  const metrics = createMetrics({ service: name, collectDefault: cfg.telemetry.defaultMetrics });
  const tracing = initTracing({
    service: name,
    config: {
      exporter: cfg.telemetry.tracingExporter,
      otlpEndpoint: cfg.telemetry.otlpEndpoint,
      sampleRatio: cfg.telemetry.sampleRatio,
    },
  });
  const redis = overrides.redis ?? (cfg.redis.url ? connectRedis(cfg.redis.url, logger) : undefined);
  const bus = overrides.bus ?? (redis ? redisBus(redis, logger) : postgresBus(cfg.database.url, logger));
  return {
    logger,
    metrics,
    telemetry: { logger, metrics, tracer: tracing.tracer },
    redis,
    bus,
    async close() {
      if (!overrides.bus) await bus.close();
      if (redis && !overrides.redis) await redis.quit().catch(() => redis.disconnect());
      await tracing.shutdown();
    },
  };
}

/**
 * Redis holds only what may be lost, so commands fail fast when it is away instead of queueing
 * behind a dead connection; callers treat a failure as a cache miss or fall back.
 */
function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    // ioredis emits an error per reconnect attempt; log at most one every 30 s.
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    logger.warn({ err: { message: err.message } }, 'redis connection error');
  });
  return redis;
}
