import { isIP } from 'node:net';
import { z } from 'zod';
import { type ConfigCheck, loadConfig } from './load.js';
import { type ConfigOf, type ConfigSpec, env, secretEnv } from './spec.js';
import { bool, httpUrl, list, oneOf, port, positiveInt, postgresUrl, ratio, redisUrl, urlMap } from './schemas.js';

/**
 * Variables every Hearth process reads: where it listens, its data stores, logging and tracing.
 * Service-specific variables live under `HEARTH_<SERVICE>_` in that service's config.ts.
 */
export const sharedSpec = {
  server: {
    host: env('HEARTH_HOST', z.string().default('127.0.0.1'), 'interface to listen on (0.0.0.0 in containers)'),
    port: env('HEARTH_PORT', port(8080), 'port to listen on (0 picks a free one)'),
    bodyLimitBytes: env('HEARTH_BODY_LIMIT_BYTES', positiveInt(1_048_576, 16 * 1_048_576), 'largest request body accepted'),
    corsOrigins: env('HEARTH_CORS_ORIGINS', list([]), 'comma-separated origins allowed by CORS; empty allows none'),
    shutdownGraceMs: env('HEARTH_SHUTDOWN_GRACE_MS', positiveInt(10_000), 'how long in-flight requests may finish on SIGTERM'),
    drainDelayMs: env(
      'HEARTH_DRAIN_DELAY_MS',
      z.coerce.number().int().min(0).max(60_000).default(1_000),
      'time between failing readiness and closing the listener: load balancers stop routing here, and requests already on their way are served (each answer closes its connection)',
    ),
    trustedProxies: env(
      'HEARTH_TRUSTED_PROXIES',
      list([]).superRefine((entries, ctx) => {
        for (const e of entries) if (!isAddressOrRange(e)) ctx.addIssue({ code: 'custom', message: `"${e.slice(0, 60)}" is not an IP address or CIDR range` });
      }),
      'comma-separated addresses or CIDR ranges of the proxies in front (the ingress); their X-Forwarded-For is believed. Empty trusts none',
    ),
  },
  database: {
    url: env('DATABASE_URL', postgresUrl(), 'PostgreSQL connection URL (required; `npm run dev` starts one when unset)'),
    poolMax: env('HEARTH_DB_POOL_MAX', positiveInt(10, 200), 'connections per service pool'),
    statementTimeoutMs: env('HEARTH_DB_STATEMENT_TIMEOUT_MS', positiveInt(10_000), 'statement_timeout for every query'),
    connectionTimeoutMs: env('HEARTH_DB_CONNECT_TIMEOUT_MS', positiveInt(5_000), 'how long to wait for a pooled connection'),
  },
  redis: {
    url: env('REDIS_URL', redisUrl().optional(), 'Redis URL; optional (fan-out falls back to Postgres LISTEN/NOTIFY)'),
  },
  auth: {
    issuer: env('HEARTH_AUTH_ISSUER', z.string().min(1).default('hearth'), 'access token issuer (iss)'),
    audience: env('HEARTH_AUTH_AUDIENCE', z.string().min(1).default('hearth-api'), 'access token audience (aud)'),
    jwksUrl: env(
      'HEARTH_AUTH_JWKS_URL',
      httpUrl().optional(),
      "the auth service's JWKS; defaults to this process's own /.well-known/jwks.json (monolith mode)",
    ),
  },
  internal: {
    secret: secretEnv(
      'HEARTH_INTERNAL_SECRET',
      { optional: true, minLength: 32 },
      'at least 32 random characters shared by every Hearth process; signs the tokens services call each other with. Required when services run in separate processes; a single process makes its own',
    ),
    serviceUrls: env(
      'HEARTH_SERVICE_URLS',
      urlMap(['auth', 'user', 'circle', 'post', 'moderation', 'support']),
      'where the services this process does not host are reached: name=url pairs, e.g. user=http://hearth-user:8080',
    ),
  },
  telemetry: {
    logLevel: env('HEARTH_LOG_LEVEL', oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'), 'log level'),
    tracingExporter: env('HEARTH_TRACING_EXPORTER', oneOf(['none', 'console', 'otlp'], 'none'), 'where traces go; off by default'),
    otlpEndpoint: env('HEARTH_OTLP_ENDPOINT', httpUrl().default('http://127.0.0.1:4318/v1/traces'), 'OTLP/HTTP traces endpoint'),
    sampleRatio: env('HEARTH_TRACING_SAMPLE_RATIO', ratio(1), 'share of new traces sampled'),
    defaultMetrics: env('HEARTH_METRICS_DEFAULT', bool(true), 'export Node process metrics on /metrics'),
  },
} as const;

/** An IPv4/IPv6 address, optionally with a /prefix (what proxy-addr, behind Fastify's trustProxy, takes). */
function isAddressOrRange(entry: string): boolean {
  const [addr = '', prefix, ...rest] = entry.split('/');
  if (rest.length > 0) return false;
  const version = isIP(addr);
  if (version === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

/** Service names, in the order they are documented and mounted. */
export const serviceNames = ['auth', 'user', 'circle', 'post', 'moderation', 'support', 'realtime'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** The env prefix a service owns, e.g. `HEARTH_AUTH_`. */
export const servicePrefix = (name: string): string => `HEARTH_${name.toUpperCase()}_`;

type Env = Readonly<Record<string, string | undefined>>;

/** A service's whole config: the shared part plus its own under `service`. */
export type ServiceConfig<S extends ConfigSpec> = ConfigOf<typeof sharedSpec> & { service: ConfigOf<S> };

export interface ServiceConfigOptions {
  /**
   * The process runs this service and no other (a service's own main.ts, as Helm and compose
   * start it): it is one of several processes whatever HEARTH_SERVICE_URLS says, so it needs the
   * shared secret and, but for auth, auth's JWKS URL.
   */
  readonly alone?: boolean;
}

/**
 * Loads the shared variables and one service's own. Unknown `HEARTH_*` variables are errors,
 * except those under another service's prefix (monolith mode sets them all in one env).
 */
export function loadServiceConfig<S extends ConfigSpec>(
  name: ServiceName,
  spec: S,
  env: Env,
  checks: ReadonlyArray<ConfigCheck<ServiceConfig<S>>> = [],
  opts: ServiceConfigOptions = {},
): ServiceConfig<S> {
  // HEARTH_DEV_* belongs to `npm run dev`, HEARTH_URL to the operator tools (grant-role, demo):
  // set in the same shell, they are not a service's typo.
  const foreignPrefixes = [...serviceNames.filter((n) => n !== name).map(servicePrefix), 'HEARTH_DEV_', 'HEARTH_URL'];
  return loadConfig({ ...sharedSpec, service: spec }, env, {
    ownedPrefixes: ['HEARTH_'],
    foreignPrefixes,
    checks: [...separateProcessChecks(name, opts.alone ?? false), ...checks] as ReadonlyArray<ConfigCheck<never>>,
  }) as ServiceConfig<S>;
}

/**
 * Services in separate processes (a service's own main.ts, or HEARTH_SERVICE_URLS set) sign their
 * calls to each other with one shared secret, and every one but auth verifies access tokens
 * against auth's JWKS by URL. A single process hosting every service makes its own secret and
 * serves its own JWKS.
 */
function separateProcessChecks(name: ServiceName, alone: boolean): Array<ConfigCheck<ConfigOf<typeof sharedSpec>>> {
  const separate = (c: ConfigOf<typeof sharedSpec>) => alone || Object.keys(c.internal.serviceUrls).length > 0;
  const why = alone ? 'this process runs one service' : 'HEARTH_SERVICE_URLS is set';
  return [
    {
      variables: ['HEARTH_SERVICE_URLS', 'HEARTH_INTERNAL_SECRET'],
      check: (c) =>
        separate(c) && !c.internal.secret
          ? [{ variable: 'HEARTH_INTERNAL_SECRET', message: `missing: required when services run in separate processes (${why}); every process shares it` }]
          : [],
    },
    {
      variables: ['HEARTH_SERVICE_URLS', 'HEARTH_AUTH_JWKS_URL'],
      check: (c) =>
        name !== 'auth' && separate(c) && !c.auth.jwksUrl
          ? [{ variable: 'HEARTH_AUTH_JWKS_URL', message: `missing: required when the auth service runs in another process (${why}); auth's /.well-known/jwks.json` }]
          : [],
    },
  ];
}
