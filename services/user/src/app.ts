import type { ConnectRouter } from '@connectrpc/connect';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import type { Database } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, createJobQueue, handle, serviceDatabase } from '@hearth/platform';
import { type UserConfig, userConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { type RpcDeps, registerRpc } from './rpc/index.js';
import { userRules } from './rpc/rules.js';
import { AccountSync } from './service/account-sync.js';
import { Accounts } from './service/accounts.js';
import { Blocks } from './service/blocks.js';
import { purgeJob, userJobs } from './service/jobs.js';
import { userPages } from './service/pages.js';
import { Profiles } from './service/profiles.js';
import { purgeDeletedAccounts } from './service/purge.js';
import type { UsersTables } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'users';

/** user_service.proto: BlockUser fails with ResourceExhausted past this many blocks. */
const BLOCK_CAP = 10_000;

export interface UserDeps {
  readonly db: Database<UsersTables>;
  /** The service's clock; tests move it to reach the purge. */
  readonly now: () => Date;
  /** How many people one person may block; tests lower it. */
  readonly blockCap: number;
}

/** Composition root of the user service: the one place its dependencies are built and wired. */
export class UserApp extends ServiceApp<UsersTables> {
  static fromConfig(config: UserConfig, runtime: Runtime, overrides: Partial<UserDeps> = {}): UserApp {
    return new UserApp(config, runtime, {
      db: overrides.db ?? serviceDatabase<UsersTables>(runtime, 'user', SCHEMA),
      now: overrides.now ?? (() => new Date()),
      blockCap: overrides.blockCap ?? BLOCK_CAP,
    });
  }

  readonly name = 'user';
  readonly rules = [userRules];
  readonly profiles: Profiles;
  readonly blocks: Blocks;
  readonly accounts: Accounts;
  readonly #rpc: RpcDeps;
  readonly #deps: UserDeps;

  private constructor(config: UserConfig, runtime: Runtime, deps: UserDeps) {
    const { db, now } = deps;
    const sync = new AccountSync({
      db,
      auth: () => runtime.serviceClient(AuthService),
      circle: () => runtime.serviceClient(CircleService),
      support: () => runtime.serviceClient(SupportService),
      logger: runtime.logger,
    });
    const jobs = createJobQueue({
      databaseUrl: config.database.url,
      queue: userJobs,
      logger: runtime.logger,
      handlers: [...sync.handlers(), handle(purgeJob, async () => void (await purgeDeletedAccounts(db, now())))],
      // Hourly is plenty for a retention counted in days; a missed run is caught up by the next.
      schedule: [{ job: purgeJob, at: '0 * * * *' }],
    });
    super({ db, migrations, jobs, logger: runtime.logger });
    this.#deps = deps;
    const pages = userPages(runtime.pageTokens);
    this.profiles = new Profiles({ db, bus: runtime.bus, now, mediaHosts: config.service.mediaHosts });
    this.blocks = new Blocks({ db, bus: runtime.bus, now, cap: deps.blockCap, pages });
    this.accounts = new Accounts({ db, sync, bus: runtime.bus, now, retentionMs: config.service.deletedRetentionDays * 86_400_000, pages });
    this.#rpc = { profiles: this.profiles, blocks: this.blocks, accounts: this.accounts };
  }

  routes(router: ConnectRouter): void {
    registerRpc(router, this.#rpc);
  }

  /** Purges the deleted accounts whose retention ended by the service's clock; returns how many. */
  purge(): Promise<number> {
    return purgeDeletedAccounts(this.#deps.db, this.#deps.now());
  }
}

/** The user service as hosts run it (main.ts, the monolith, the test harness). */
export const userService: ServiceDefinition<typeof userConfigSpec, UserDeps, UserApp> = {
  name: 'user',
  configSpec: userConfigSpec,
  create: (config, runtime, overrides) => UserApp.fromConfig(config, runtime, overrides),
};
