import type { Interceptor } from '@connectrpc/connect';
import type { AuthorizationSources, ServiceRules } from '@hearth/authz';
import { type HostAuthentication, createHostAuthentication } from './authentication.js';
import { createHostAuthorization } from './authorization.js';
import { type ReadinessCheck, redisCheck } from './health.js';
import { type Runtime, type RuntimeOverrides, type SharedConfig, createRuntime } from './runtime.js';
import { type HearthServer, type ServiceMount, createServer } from './server.js';

/** What a service's composition root (its app.ts) hands to the host. */
export interface ServiceModule {
  readonly mount: ServiceMount;
  readonly readiness: readonly ReadinessCheck[];
  /**
   * Who may call each RPC of the module's Connect service (services/<name>/src/rpc/rules.ts).
   * Absent only for modules without a Connect service; every call of a method without a rule
   * is refused (default deny).
   */
  readonly rules?: ServiceRules;
  /**
   * Answers the module can give from its own store (the circle module: memberships; the user
   * module: blocks). Services hosted elsewhere ask for them by RPC.
   */
  readonly authorizationSources?: Partial<AuthorizationSources>;
  /** Brings the service's schema to the latest version (idempotent, advisory-locked). */
  migrate(): Promise<void>;
  /**
   * Starts background work (job workers) once the process listens, so work that calls other
   * services finds them. Not called by one-shot tools such as `npm run migrate`.
   */
  start?(): Promise<void>;
  /** Releases what the service holds (pools, timers); called after the server stopped. */
  close(): Promise<void>;
}

export interface HostOptions {
  /** Process name for logs and metrics: a service name, or "hearth" in monolith mode. */
  readonly name: string;
  readonly config: SharedConfig;
  /** Builds the hosted services from the shared runtime. */
  readonly create: (runtime: Runtime) => Promise<readonly ServiceModule[]>;
  /**
   * Replaces the authentication step that is otherwise built from `config.auth` and the
   * modules' rule tables (see createHostAuthentication).
   */
  readonly authenticate?: Interceptor;
  readonly migrate?: boolean;
  readonly runtime?: RuntimeOverrides;
}

export interface Host {
  readonly runtime: Runtime;
  readonly server: HearthServer;
  readonly url: string;
  /** The authentication every RPC of this host goes through; absent when `authenticate` replaced it. */
  readonly authentication: HostAuthentication | undefined;
  /** The hosted services, as created. */
  readonly modules: readonly ServiceModule[];
  close(): Promise<void>;
}

/**
 * Starts one or more services in this process behind one server: runtime -> services ->
 * migrate -> listen. Whatever was opened is closed again if a later step fails, so a failed
 * start never leaves the process hanging on open handles.
 */
export async function startHost(opts: HostOptions): Promise<Host> {
  const base = createRuntime(opts.name, opts.config, opts.runtime);
  const modules: ServiceModule[] = [];
  let server: HearthServer | undefined;
  let url: string | undefined;
  const authorization = createHostAuthorization({
    name: opts.name,
    config: opts.config,
    runtime: base,
    modules: () => modules,
    selfUrl: () => url,
  });
  const authentication = opts.authenticate
    ? undefined
    : createHostAuthentication({
        config: opts.config,
        runtime: base,
        modules: () => modules,
        selfUrl: () => url,
        serviceTokens: authorization.serviceTokens,
      });
  const runtime: Runtime = {
    ...base,
    authentication,
    serviceClient: authorization.serviceClient,
    serviceTokens: authorization.serviceTokens,
    authorization: { blocks: authorization.sources.blocks, memberships: authorization.sources.memberships },
  };
  const closeAll = async () => {
    if (server) await server.close();
    for (const m of [...modules].reverse()) await m.close();
    await authentication?.close();
    authorization.close();
    await runtime.close();
  };
  try {
    modules.push(...(await opts.create(runtime)));
    authentication?.assertKeySource(modules);
    authorization.assertReady();
    if (opts.migrate ?? true) {
      await authentication?.migrate();
      for (const m of modules) await m.migrate();
    }
    const readiness = modules.flatMap((m) => m.readiness);
    if (runtime.redis) readiness.push(redisCheck(runtime.redis));
    server = await createServer({
      server: opts.config.server,
      telemetry: runtime.telemetry,
      mounts: modules.map((m) => m.mount),
      readiness: dedupeByName(readiness),
      authenticate: opts.authenticate ?? (authentication as HostAuthentication).interceptor,
      authorize: authorization.interceptor,
    });
    url = await server.listen();
    for (const m of modules) await m.start?.();
    runtime.logger.info({ url, services: modules.map((m) => m.mount.name) }, 'listening');
    return { runtime, server, url, authentication, modules, close: closeAll };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}

// In monolith mode several services report on the same dependency; one check per name is enough
// only when they are truly the same, so names carry the service (e.g. "postgres:auth").
function dedupeByName(checks: readonly ReadinessCheck[]): ReadinessCheck[] {
  const seen = new Map<string, ReadinessCheck>();
  for (const c of checks) if (!seen.has(c.name)) seen.set(c.name, c);
  return [...seen.values()];
}
