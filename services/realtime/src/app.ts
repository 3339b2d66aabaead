import { authenticateUpgrade } from '@hearth/authz';
import { type Runtime, type ServiceModule, type ServiceMount } from '@hearth/platform';
import type { RealtimeConfig } from './config.js';
import { registerGateway } from './gateway/route.js';

/**
 * Composition root of the realtime gateway. It owns no schema: history comes from the circle
 * service and live events from the bus, so it has nothing to migrate.
 */
export class RealtimeApp implements ServiceModule {
  static fromConfig(config: RealtimeConfig, runtime: Runtime): RealtimeApp {
    return new RealtimeApp(config, runtime);
  }

  readonly mount: ServiceMount;
  readonly readiness = [];

  private constructor(config: RealtimeConfig, runtime: Runtime) {
    const log = runtime.logger.child({ subsystem: 'realtime' });
    const authentication = runtime.authentication;
    if (!authentication) throw new Error('the realtime gateway needs the host authentication (verifier and deny-list)');
    const { verifier, denyList } = authentication;
    // Cookie-authenticated sockets are accepted from the origins CORS allows.
    const upgrade = { verifier, denyList, allowedOrigins: config.server.corsOrigins, logger: log };
    this.mount = {
      name: 'realtime',
      routes: () => undefined,
      http: (app) =>
        registerGateway(
          app,
          config.service,
          (headers) => ({
            authenticate: async (accessToken) => (await authenticateUpgrade(upgrade, { accessToken, headers })).identity,
            isRevoked: (sessionId) => denyList.isRevoked(sessionId),
          }),
          log,
        ),
    };
  }

  async migrate(): Promise<void> {}

  async close(): Promise<void> {}
}
