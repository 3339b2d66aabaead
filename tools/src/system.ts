import { type HearthClient, createHearthClient } from '@hearth/client';
import { ConfigError, type ConfigProblem, type ServiceName, loadServiceConfig } from '@hearth/config';
import { type Host, type Runtime, type RuntimeOverrides, type ServiceModule, type SharedConfig, startHost } from '@hearth/platform';
import { AuthApp, authConfigSpec } from '@hearth/service-auth';
import { CircleApp, circleConfigSpec } from '@hearth/service-circle';
import { ModerationApp, moderationConfigSpec } from '@hearth/service-moderation';
import { PostApp, postConfigSpec } from '@hearth/service-post';
import { RealtimeApp, realtimeConfigSpec } from '@hearth/service-realtime';
import { SupportApp, supportConfigSpec } from '@hearth/service-support';
import { UserApp, userConfigSpec } from '@hearth/service-user';

type Env = Readonly<Record<string, string | undefined>>;
type Factory = (runtime: Runtime) => ServiceModule;

/**
 * Reads every service's config from one environment (monolith mode) and reports the problems of
 * all of them together, each variable once, so one run shows everything to fix.
 */
export function loadSystem(env: Env): { shared: SharedConfig; factories: Record<ServiceName, Factory> } {
  const problems = new Map<string, ConfigProblem>();
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) problems.set(p.variable, p);
      return undefined;
    }
  };
  const auth = attempt(() => loadServiceConfig('auth', authConfigSpec, env));
  const user = attempt(() => loadServiceConfig('user', userConfigSpec, env));
  const circle = attempt(() => loadServiceConfig('circle', circleConfigSpec, env));
  const post = attempt(() => loadServiceConfig('post', postConfigSpec, env));
  const moderation = attempt(() => loadServiceConfig('moderation', moderationConfigSpec, env));
  const support = attempt(() => loadServiceConfig('support', supportConfigSpec, env));
  const realtime = attempt(() => loadServiceConfig('realtime', realtimeConfigSpec, env));
  if (!auth || !user || !circle || !post || !moderation || !support || !realtime) {
    throw new ConfigError([...problems.values()]);
  }
  return {
    shared: auth,
    factories: {
      auth: (rt) => AuthApp.fromConfig(auth, rt),
      user: (rt) => UserApp.fromConfig(user, rt),
      circle: (rt) => CircleApp.fromConfig(circle, rt),
      post: (rt) => PostApp.fromConfig(post, rt),
      moderation: (rt) => ModerationApp.fromConfig(moderation, rt),
      support: (rt) => SupportApp.fromConfig(support, rt),
      realtime: (rt) => RealtimeApp.fromConfig(realtime, rt),
    },
  };
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
 * Tests start it on port 0 (`HEARTH_PORT=0`) and use the returned typed client. It lives in
 * tools rather than testkit because it imports every service, and services depend on testkit.
 */
export async function startSystem(opts: SystemOptions): Promise<System> {
  const { shared, factories } = loadSystem(opts.env);
  const host = await startHost({
    name: 'hearth',
    config: shared,
    create: async (runtime) => Object.values(factories).map((create) => create(runtime)),
    ...(opts.migrate === undefined ? {} : { migrate: opts.migrate }),
    ...(opts.runtime ? { runtime: opts.runtime } : {}),
  });
  return { ...host, client: createHearthClient({ baseUrl: host.url }) };
}
