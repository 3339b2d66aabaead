import type { ConnectRouter } from '@connectrpc/connect';
import type { Database } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, serviceDatabase } from '@hearth/platform';
import { type ModerationConfig, moderationConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { moderationRules } from './rpc/rules.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'moderation';

export interface ModerationDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the moderation service: the one place its dependencies are built and wired. */
export class ModerationApp extends ServiceApp<unknown> {
  static fromConfig(_config: ModerationConfig, runtime: Runtime, overrides: Partial<ModerationDeps> = {}): ModerationApp {
    return new ModerationApp(runtime, { db: overrides.db ?? serviceDatabase(runtime, 'moderation', SCHEMA) });
  }

  readonly name = 'moderation';
  readonly rules = [moderationRules];

  private constructor(runtime: Runtime, deps: ModerationDeps) {
    super({ db: deps.db, migrations, logger: runtime.logger });
  }

  routes(router: ConnectRouter): void {
    registerRpc(router);
  }
}

/** The moderation service as hosts run it (main.ts, the monolith, the test harness). */
export const moderationService: ServiceDefinition<typeof moderationConfigSpec, ModerationDeps, ModerationApp> = {
  name: 'moderation',
  configSpec: moderationConfigSpec,
  create: (config, runtime, overrides) => ModerationApp.fromConfig(config, runtime, overrides),
};
