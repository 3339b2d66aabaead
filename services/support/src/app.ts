import type { ConnectRouter } from '@connectrpc/connect';
import { CachedUserCircles, remoteUserCircles } from '@hearth/authz';
import { schemas } from '@hearth/config';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { type Database, FieldCipher, pageField } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, serviceDatabase } from '@hearth/platform';
import { type SupportConfig, supportConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { type RpcDeps, registerRpc } from './rpc/index.js';
import { supportRules } from './rpc/rules.js';
import { CrisisResources } from './service/crisis-resources.js';
import { eraseUserData } from './service/erasure.js';
import { SafetyPlans } from './service/safety-plans.js';
import { SupportOffers } from './service/support-offers.js';
import { SupportRequests } from './service/support-requests.js';
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
    return new SupportApp(config, runtime, {
      db: overrides.db ?? serviceDatabase<SupportTables>(runtime, 'support', SCHEMA),
      cipher: overrides.cipher ?? new FieldCipher(schemas.ringKeys('HEARTH_SUPPORT_PLAN_KEYS', config.service.planKeys)),
      now: overrides.now ?? (() => new Date()),
    });
  }

  readonly name = 'support';
  readonly rules = [supportRules];
  readonly #rpc: RpcDeps;
  readonly #runtime: Runtime;
  readonly #userCircles: CachedUserCircles;
  #off: (() => void) | undefined;

  private constructor(config: SupportConfig, runtime: Runtime, deps: SupportDeps) {
    super({ db: deps.db, migrations, logger: runtime.logger });
    this.#runtime = runtime;
    this.#userCircles = new CachedUserCircles(remoteUserCircles(() => runtime.serviceClient(CircleService)));
    const requests = new SupportRequests({
      db: deps.db,
      cipher: deps.cipher,
      memberships: runtime.authorization.memberships,
      blocks: runtime.authorization.blocks,
      userCircles: this.#userCircles,
      pages: runtime.pageTokens.codec('support.requests', { u: pageField.int(1, 3), t: pageField.time(), id: pageField.id() }),
      maxOpen: config.service.maxOpenRequests,
      now: deps.now,
    });
    const offers = new SupportOffers({
      db: deps.db,
      cipher: deps.cipher,
      requests,
      pages: runtime.pageTokens.codec('support.offers', { t: pageField.time(), id: pageField.id() }),
      now: deps.now,
    });
    this.#rpc = { plans: new SafetyPlans({ db: deps.db, cipher: deps.cipher, now: deps.now }), crisis: new CrisisResources({ db: deps.db }), requests, offers, erase: (userId) => eraseUserData(deps.db, userId, deps.now()) };
  }

  protected override async onStart(): Promise<void> {
    // Someone joined or left a circle: the requests they can list change at once.
    this.#off = this.#userCircles.follow(this.#runtime.bus);
  }

  protected override async onStop(): Promise<void> {
    this.#off?.();
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
