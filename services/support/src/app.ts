import type { ConnectRouter } from '@connectrpc/connect';
import { schemas } from '@hearth/config';
import { type Database, FieldCipher } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, serviceDatabase } from '@hearth/platform';
import { type SupportConfig, supportConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { type RpcDeps, registerRpc } from './rpc/index.js';
import { supportRules } from './rpc/rules.js';
import { CrisisResources } from './service/crisis-resources.js';
import { SafetyPlans } from './service/safety-plans.js';
import type { SupportTables } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'support';

export interface SupportDeps {
  readonly db: Database<SupportTables>;
  /** Seals safety plans at rest, from HEARTH_SUPPORT_PLAN_KEYS. */
  readonly cipher: FieldCipher;
  readonly now: () => Date;
}

/** Composition root of the support service: the one place its dependencies are built and wired. */
export class SupportApp extends ServiceApp<SupportTables> {
  static fromConfig(config: SupportConfig, runtime: Runtime, overrides: Partial<SupportDeps> = {}): SupportApp {
    return new SupportApp(runtime, {
      db: overrides.db ?? serviceDatabase<SupportTables>(runtime, 'support', SCHEMA),
      cipher: overrides.cipher ?? new FieldCipher(schemas.ringKeys('HEARTH_SUPPORT_PLAN_KEYS', config.service.planKeys)),
      now: overrides.now ?? (() => new Date()),
    });
  }

  readonly name = 'support';
  readonly rules = [supportRules];
  readonly #rpc: RpcDeps;

  private constructor(runtime: Runtime, deps: SupportDeps) {
    super({ db: deps.db, migrations, logger: runtime.logger });
    this.#rpc = { plans: new SafetyPlans({ db: deps.db, cipher: deps.cipher, now: deps.now }), crisis: new CrisisResources({ db: deps.db }) };
  }

  routes(router: ConnectRouter): void {
    registerRpc(router, this.#rpc);
  }
}

/** The support service as hosts run it (main.ts, the monolith, the test harness). */
export const supportService: ServiceDefinition<typeof supportConfigSpec, SupportDeps, SupportApp> = {
  name: 'support',
  configSpec: supportConfigSpec,
  create: (config, runtime, overrides) => SupportApp.fromConfig(config, runtime, overrides),
};
