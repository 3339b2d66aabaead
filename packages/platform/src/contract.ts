/**
 * The contract between the host and the services it runs: the types a service's composition
 * root (app.ts) implements and receives. This module imports nothing from the rest of the
 * platform, so every other module can depend on it without a cycle.
 */
import type { DescService } from '@bufbuild/protobuf';
import type { Client, ConnectRouter } from '@connectrpc/connect';
import type { AuthorizationSources, ServiceRules, ServiceTokens, SessionDenyList, TokenVerifier } from '@hearth/authz';
import type { ConfigCheck, ConfigOf, ConfigSpec, ServiceConfig, ServiceName, sharedSpec } from '@hearth/config';
import type { EventBus, PageTokens } from '@hearth/db';
import type { Logger, Metrics, Tracer } from '@hearth/telemetry';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

export type SharedConfig = ConfigOf<typeof sharedSpec>;

/** One dependency readiness depends on. `check` rejects when the dependency is unusable. */
export interface ReadinessCheck {
  readonly name: string;
  /**
   * False for dependencies whose loss degrades but does not stop service (Redis holds only
   * what may be lost): their failure is reported, but the instance stays in rotation, so a
   * Redis outage cannot take every replica out at once.
   */
  readonly critical?: boolean;
  check(signal: AbortSignal): Promise<void>;
}

/** Connect clients for the other Hearth services, calling as this process's service identity. */
export type ServiceClientFactory = <S extends DescService>(service: S) => Client<S>;

/**
 * Where this process serves, known once it listens. Services call each other by URL also when
 * they share a process, and in monolith mode the auth service's JWKS is this process's own, so
 * both need it; they read it only while serving requests, after the listen phase resolved it.
 */
export interface HostAddress {
  /** The base URL (loopback when bound to every interface); throws before the host listens. */
  url(): string;
}

/** Redis, when configured, with a circuit breaker in front (see GuardedRedis in redis.ts). */
export interface RedisAccess {
  /** The connection, for libraries that take an ioredis client (rate limits). */
  readonly client: Redis;
  /** False while Redis is known to be down: callers skip it and fall back at once. */
  readonly available: boolean;
  /** Runs `op` unless the breaker is open (then rejects at once); trips the breaker on failures. */
  run<T>(op: (redis: Redis) => Promise<T>): Promise<T>;
}

/** What a host's services authenticate with: token checks and the session deny-list. */
export interface Sessions {
  readonly verifier: TokenVerifier;
  readonly denyList: SessionDenyList;
}

/**
 * What one process shares among the services it hosts (phase 1 of the host). Built before any
 * service, from the shared configuration alone; nothing in it depends on which services run.
 */
export interface Runtime {
  readonly name: string;
  readonly config: SharedConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
  /** Absent when REDIS_URL is not configured: callers fall back to Postgres or memory. */
  readonly redis: RedisAccess | undefined;
  /** Live events between processes (Redis pub/sub, else Postgres LISTEN/NOTIFY); may lose events. */
  readonly bus: EventBus;
  readonly address: HostAddress;
  readonly serviceClient: ServiceClientFactory;
  /** Mints this process's service tokens (for callers that are not Connect clients). */
  readonly serviceTokens: ServiceTokens;
  /** Access tokens and revoked sessions, as every service checks them. */
  readonly sessions: Sessions;
  /** Cached answers about circle membership and blocks, shared by the process's services. */
  readonly authorization: AuthorizationSources;
  /** Signs and checks the page tokens of every List RPC. */
  readonly pageTokens: PageTokens;
}

/**
 * One service as the host runs it (phase 2): built by its definition's `create`, which does no
 * I/O and starts nothing; the host then migrates, listens and starts it, and on shutdown stops
 * it before the listener closes and closes it after.
 */
export interface ServiceModule {
  readonly name: ServiceName;
  /**
   * Who may call each RPC of each Connect service the module serves (services/<name>/src/rpc/
   * rules.ts), one table per service; empty for a module without one (the realtime gateway).
   * Every call of a method without a rule is refused (default deny).
   */
  readonly rules: readonly ServiceRules[];
  /** Registers the service's Connect handlers; methods left out answer Unimplemented. */
  routes(router: ConnectRouter): void;
  /** Plain-HTTP routes outside Connect (the JWKS document, the realtime WebSocket). */
  http?(app: FastifyInstance): void | Promise<void>;
  readonly readiness: readonly ReadinessCheck[];
  /** Brings the service's schema (and job queue) to the latest version; idempotent, locked. */
  migrate(): Promise<void>;
  /** Starts background work (timers, job workers) once the process listens. */
  start(): Promise<void>;
  /** Stops taking background work and finishes what runs; called before the listener closes. */
  stop(): Promise<void>;
  /** Releases what the service holds (pools); called after the listener closed. */
  close(): Promise<void>;
}

/**
 * How to build one service: its name, its own configuration variables and its composition root.
 * Each service package exports one (e.g. `circleService`); `runService` runs it alone and the
 * monolith and the test harness run several.
 */
export interface ServiceDefinition<S extends ConfigSpec = ConfigSpec, O = never, M extends ServiceModule = ServiceModule> {
  readonly name: ServiceName;
  readonly configSpec: S;
  /** Rules across this service's variables, reported with every other configuration problem. */
  readonly configChecks?: ReadonlyArray<ConfigCheck<ServiceConfig<S>>>;
  /** The composition root; `overrides` swap dependencies in tests. */
  create(config: ServiceConfig<S>, runtime: Runtime, overrides?: Partial<O>): M;
}
