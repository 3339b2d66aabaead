import type { ConnectRouter } from '@connectrpc/connect';
import type { Database } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, serviceDatabase } from '@hearth/platform';
import { type SupportConfig, supportConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { supportRules } from './rpc/rules.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'support';

export interface SupportDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the support service: the one place its dependencies are built and wired. */
export class SupportApp extends ServiceApp<unknown> {
  static fromConfig(_config: SupportConfig, runtime: Runtime, overrides: Partial<SupportDeps> = {}): SupportApp {
    return new SupportApp(runtime, { db: overrides.db ?? serviceDatabase(runtime, 'support', SCHEMA) });
  }

  readonly name = 'support';
  readonly rules = [supportRules];

  private constructor(runtime: Runtime, deps: SupportDeps) {
    super({ db: deps.db, migrations, logger: runtime.logger });
  }

  routes(router: ConnectRouter): void {
    registerRpc(router);
  }
}

/** The support service as hosts run it (main.ts, the monolith, the test harness). */
export const supportService: ServiceDefinition<typeof supportConfigSpec, SupportDeps, SupportApp> = {
  name: 'support',
  configSpec: supportConfigSpec,
  create: (config, runtime, overrides) => SupportApp.fromConfig(config, runtime, overrides),
};
