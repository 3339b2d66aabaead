import {
  JWKS_PATH,
  type ReplicatedSessionDenyList,
  ServiceTokens,
  createAuthorizationSources,
  createSessionDenyList,
  createTokenVerifier,
  migrateAuthz,
} from '@hearth/authz';
import type { ServiceName } from '@hearth/config';
import { type EventBus, PageTokens, createDatabase } from '@hearth/db';
import { type Logger, createLogger, createMetrics, initTracing } from '@hearth/telemetry';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { postgresBus, redisBus } from './bus.js';
import type { HostAddress, Runtime, SharedConfig } from './contract.js';
import { type GuardedRedis, connectRedis, guardRedis } from './redis.js';
import { hostAddress, serviceClients } from './service-clients.js';

export interface RuntimeOverrides {
  readonly logger?: Logger;
  /** A connection of the caller's (tests: one with a key prefix); the runtime does not close it. */
  readonly redis?: Redis;
  readonly bus?: EventBus;
  /** Prefix of the Redis bus's channels (default "hearth:"), so two systems on one Redis stay apart. */
  readonly channelPrefix?: string;
}

export interface RuntimeOptions {
  /** Process name for logs and metrics: a service name, or "hearth" in monolith mode. */
  readonly name: string;
  readonly config: SharedConfig;
  /** The services this process hosts, known before any of them is built. */
  readonly hosted: readonly ServiceName[];
  readonly overrides?: RuntimeOverrides;
}

/** The runtime as the host holds it: with what only the host may do (resolve, start, close). */
export interface HostRuntime extends Runtime {
  readonly address: HostAddress & { resolve(url: string): void };
  readonly denyList: ReplicatedSessionDenyList;
  /** Creates the deny-list's Postgres record if missing (idempotent, advisory-locked). */
  migrate(): Promise<void>;
  /** Loads the deny-list copy; before the host listens, so the first call is checked. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Phase 1 of a host: what one process shares among the services it hosts, built from the
 * shared configuration and the names of the hosted services. Nothing here waits on a service.
 */
export function createRuntime(opts: RuntimeOptions): HostRuntime {
  const { config, overrides = {} } = opts;
  const hosted = new Set<string>(opts.hosted);
  const logger = overrides.logger ?? createLogger({ service: opts.name, level: config.telemetry.logLevel });
  const metrics = createMetrics({ service: opts.name, collectDefault: config.telemetry.defaultMetrics });
  const tracing = initTracing({
    service: opts.name,
    config: { exporter: config.telemetry.tracingExporter, otlpEndpoint: config.telemetry.otlpEndpoint, sampleRatio: config.telemetry.sampleRatio },
  });
  const redis: GuardedRedis | undefined = overrides.redis
    ? guardRedis(overrides.redis, logger)
    : config.redis.url
      ? connectRedis(config.redis.url, logger)
      : undefined;
  const bus = overrides.bus ?? (redis ? redisBus(redis, logger, overrides.channelPrefix) : postgresBus(config.database.url, logger));
  // A single process only talks to itself, so a secret of its own is enough; separate processes
  // must share one (the config refuses HEARTH_SERVICE_URLS without it).
  const secret = config.internal.secret?.reveal() ?? randomBytes(32).toString('base64url');
  const serviceTokens = new ServiceTokens(secret, opts.name);
  const address = hostAddress();
  const serviceClient = serviceClients({ tokens: serviceTokens, urls: config.internal.serviceUrls, hosted, address });
  const authzDb = createDatabase(
    {
      ...config.database,
      schema: 'authz',
      // The deny-list's copy syncs a small indexed table every few seconds; four is plenty.
      poolMax: Math.min(config.database.poolMax, 4),
      idleTimeoutMs: 30_000,
      applicationName: 'hearth-authz',
    },
    { logger },
  );
  const denyList = createSessionDenyList({ db: authzDb, bus, logger });
  const verifier = createTokenVerifier({
    jwksUrl: config.auth.jwksUrl
      ? new URL(config.auth.jwksUrl)
      : () => {
          // startHost refuses to serve without a key source; a one-shot tool never verifies.
          if (!hosted.has('auth')) throw new Error('HEARTH_AUTH_JWKS_URL is not set and the auth service is not hosted here');
          return new URL(JWKS_PATH, address.url());
        },
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    logger,
  });
  const authorization = createAuthorizationSources({ bus, clients: serviceClient });
  return {
    name: opts.name,
    config,
    logger,
    metrics,
    tracer: tracing.tracer,
    redis,
    bus,
    address,
    serviceClient,
    serviceTokens,
    sessions: { verifier, denyList },
    denyList,
    authorization,
    pageTokens: PageTokens.fromSecret(secret),
    async migrate() {
      await migrateAuthz(authzDb, { logger });
    },
    async start() {
      await denyList.start();
    },
    async close() {
      denyList.stop();
      authorization.close();
      await authzDb.destroy();
      if (!overrides.bus) await bus.close();
      if (redis && !overrides.redis) await redis.close();
      await tracing.shutdown();
    },
  };
}
