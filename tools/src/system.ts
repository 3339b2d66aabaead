import { type HearthClient, createHearthClient } from '@hearth/client';
import { ConfigError, type ConfigProblem, type ConfigSpec, loadServiceConfig } from '@hearth/config';
import { type Host, type HostedService, type RuntimeOverrides, type ServiceDefinition, type SharedConfig, startHost } from '@hearth/platform';
import { authService } from '@hearth/service-auth';
import { circleService } from '@hearth/service-circle';
import { moderationService } from '@hearth/service-moderation';
import { postService } from '@hearth/service-post';
import { realtimeService } from '@hearth/service-realtime';
import { supportService } from '@hearth/service-support';
import { userService } from '@hearth/service-user';

type Env = Readonly<Record<string, string | undefined>>;

/** Every Hearth service, in the order they are documented and mounted. */
export const allServices: ReadonlyArray<ServiceDefinition<ConfigSpec, never>> = [
  authService,
  userService,
  circleService,
  postService,
  moderationService,
  supportService,
  realtimeService,
] as unknown as ReadonlyArray<ServiceDefinition<ConfigSpec, never>>;

/**
 * Reads the configuration of the given services from one environment (monolith mode) and reports
 * the problems of all of them together, each variable once, so one run shows everything to fix.
 */
export function loadSystem(
  env: Env,
  services: ReadonlyArray<ServiceDefinition<ConfigSpec, never>> = allServices,
): { shared: SharedConfig; services: HostedService[] } {
  const problems = new Map<string, ConfigProblem>();
  const hosted: HostedService[] = [];
  let shared: SharedConfig | undefined;
  for (const definition of services) {
    try {
      const config = loadServiceConfig(definition.name, definition.configSpec, env, definition.configChecks ?? []);
      shared ??= config;
      hosted.push({ name: definition.name, create: (runtime) => definition.create(config, runtime) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) problems.set(p.variable, p);
    }
  }
  if (problems.size > 0 || !shared) throw new ConfigError([...problems.values()]);
  return { shared, services: hosted };
}

export interface System extends Host {
  /** The typed SDK, pointed at this system's origin. */
  readonly client: HearthClient;
}

export interface SystemOptions {
  readonly env: Env;
  readonly migrate?: boolean;
  readonly runtime?: RuntimeOverrides;
}

/**
 * Monolith mode: every service and the realtime gateway in this process, behind one origin.
 * The services are the same modules `npm start -w services/<name>` runs one per process.
 */
export async function startSystem(opts: SystemOptions): Promise<System> {
  const { shared, services } = loadSystem(opts.env);
  const host = await startHost({
    name: 'hearth',
    config: shared,
    services,
    ...(opts.migrate === undefined ? {} : { migrate: opts.migrate }),
    ...(opts.runtime ? { runtime: opts.runtime } : {}),
  });
  return { ...host, client: createHearthClient({ baseUrl: host.url }) };
}
