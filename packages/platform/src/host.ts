import type { ServiceName } from '@hearth/config';
import type { Runtime, ServiceModule, SharedConfig } from './contract.js';
import { redisCheck } from './health.js';
import { StartupError } from './startup-error.js';
import { createRequestPipeline } from './pipeline.js';
import { type HostRuntime, type RuntimeOverrides, createRuntime } from './runtime.js';
import { type HearthServer, createServer } from './server.js';

/** One service the host is to run: its name (known before it is built) and how to build it. */
export interface HostedService {
  readonly name: ServiceName;
  create(runtime: Runtime): ServiceModule;
}

export interface HostOptions {
  /** Process name for logs and metrics: a service name, or "hearth" in monolith mode. */
  readonly name: string;
  readonly config: SharedConfig;
  readonly services: readonly HostedService[];
  /** Default true; false when the schemas are known to be current (a cloned test database). */
  readonly migrate?: boolean;
  readonly runtime?: RuntimeOverrides;
}

export interface Host {
  readonly runtime: Runtime;
  readonly server: HearthServer;
  readonly url: string;
  /** The hosted services, as built, in the order given. */
  readonly modules: readonly ServiceModule[];
  close(): Promise<void>;
}

/**
 * Runs one or more services in this process behind one server, in phases, each built from what
 * the one before produced: runtime (shared by all) -> modules (each service's composition root)
 * -> request pipeline (from the complete list of modules) -> migrate -> listen -> start.
 * Whatever was opened is closed again if a later phase fails, so a failed start never leaves the
 * process hanging on open handles.
 *
 * Shutdown (`close`) stops taking work in order: readiness fails and responses ask clients to
 * reconnect elsewhere; background work (job workers) stops while the listener still serves the
 * calls it makes; after the drain delay the listener closes, finishing what arrived; then pools.
 */
export async function startHost(opts: HostOptions): Promise<Host> {
  const names = opts.services.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`a service is listed twice: ${names.join(', ')}`);
  if (!opts.config.auth.jwksUrl && !names.includes('auth')) {
    throw new StartupError('HEARTH_AUTH_JWKS_URL is required when the auth service runs in another process');
  }
  const runtime: HostRuntime = createRuntime({ name: opts.name, config: opts.config, hosted: names, ...(opts.runtime ? { overrides: opts.runtime } : {}) });
  const modules: ServiceModule[] = [];
  let server: HearthServer | undefined;
  let started = false;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Every step runs whatever an earlier one threw, so a failing module cannot leave pools
      // and sockets open; the first failure is reported at the end.
      const failures: unknown[] = [];
      const step = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          runtime.logger.error({ err, step: what }, 'shutdown step failed');
          failures.push(err);
        }
      };
      server?.drain();
      const delay = server ? wait(opts.config.server.drainDelayMs) : Promise.resolve();
      await Promise.all([delay, ...(started ? modules.map((m) => step(`stop ${m.name}`, () => m.stop())) : [])]);
      if (server) await step('listener', () => server!.close());
      for (const m of [...modules].reverse()) await step(`close ${m.name}`, () => m.close());
      await step('runtime', () => runtime.close());
      if (failures.length > 0) throw failures[0];
    })());
  try {
    for (const s of opts.services) {
      const m = s.create(runtime);
      if (m.name !== s.name) throw new Error(`the service listed as ${s.name} built a module named ${m.name}`);
      modules.push(m);
    }
    const interceptors = createRequestPipeline(runtime, modules);
    if (opts.migrate ?? true) {
      await runtime.migrate();
      for (const m of modules) await m.migrate();
    }
    await runtime.start();
    const readiness = modules.flatMap((m) => m.readiness);
    if (runtime.redis) readiness.push(redisCheck(runtime.redis));
    server = await createServer({
      server: opts.config.server,
      logger: runtime.logger,
      metrics: runtime.metrics,
      modules,
      readiness: dedupeByName(readiness),
      interceptors,
    });
    const url = await server.listen();
    runtime.address.resolve(url);
    started = true;
    for (const m of modules) await m.start();
    runtime.logger.info({ url, services: names }, 'listening');
    return { runtime, server, url, modules, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

function wait(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

// In monolith mode several services report on the same dependency; one check per name is enough
// only when they are truly the same, so names carry the service (e.g. "postgres:auth").
function dedupeByName<T extends { name: string }>(checks: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const c of checks) if (!seen.has(c.name)) seen.set(c.name, c);
  return [...seen.values()];
}

/**
 * Migrations only (`npm run migrate`, the migration Job, test templates): the runtime and the
 * modules are built as for serving, the authz schema and each module's schema brought up to
 * date, and everything closed again. Nothing listens and no background work starts.
 */
export async function migrateServices(opts: Pick<HostOptions, 'name' | 'config' | 'services'> & { onMigrated?: (name: string) => void }): Promise<void> {
  const runtime = createRuntime({ name: opts.name, config: { ...opts.config, redis: { url: undefined } }, hosted: opts.services.map((s) => s.name) });
  try {
    await runtime.migrate();
    opts.onMigrated?.('authz');
    for (const s of opts.services) {
      const module = s.create(runtime);
      try {
        await module.migrate();
        opts.onMigrated?.(s.name);
      } finally {
        await module.close();
      }
    }
  } finally {
    await runtime.close();
  }
}
