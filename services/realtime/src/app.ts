import { authenticateUpgrade } from '@hearth/authz';
import type { Runtime, ServiceDefinition, ServiceModule } from '@hearth/platform';
import type { FastifyInstance } from 'fastify';
import { type RealtimeConfig, realtimeConfigSpec } from './config.js';
import { registerGateway } from './gateway/route.js';

/**
 * Composition root of the realtime gateway. It owns no schema: history comes from the circle
 * service and live events from the bus, so it has nothing to migrate.
 */
export class RealtimeApp implements ServiceModule {
  static fromConfig(config: RealtimeConfig, runtime: Runtime): RealtimeApp {
    return new RealtimeApp(config, runtime);
  }

  readonly name = 'realtime';
  readonly rules = [];
  readonly readiness = [];
  readonly #config: RealtimeConfig;
  readonly #runtime: Runtime;

  private constructor(config: RealtimeConfig, runtime: Runtime) {
    this.#config = config;
    this.#runtime = runtime;
  }

  routes(): void {}

  async http(app: FastifyInstance): Promise<void> {
    const log = this.#runtime.logger.child({ subsystem: 'realtime' });
    const { verifier, denyList } = this.#runtime.sessions;
    // Cookie-authenticated sockets are accepted from the origins CORS allows.
    const upgrade = { verifier, denyList, allowedOrigins: this.#config.server.corsOrigins, logger: log };
    await registerGateway(
      app,
      this.#config.service,
      (headers) => ({
        authenticate: async (accessToken) => (await authenticateUpgrade(upgrade, { accessToken, headers })).identity,
        isRevoked: (sessionId) => denyList.isRevoked(sessionId),
      }),
      log,
    );
  }

  async migrate(): Promise<void> {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The realtime gateway as hosts run it (main.ts, the monolith, the test harness). */
export const realtimeService: ServiceDefinition<typeof realtimeConfigSpec, never, RealtimeApp> = {
  name: 'realtime',
  configSpec: realtimeConfigSpec,
  create: (config, runtime) => RealtimeApp.fromConfig(config, runtime),
};
