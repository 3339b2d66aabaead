import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_pb.js';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_pb.js';
import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type JobQueue, type Runtime, type ServiceModule, createJobQueue, postgresCheck } from '@hearth/platform';
import type { UserConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { userRules } from './rpc/rules.js';
import { AccountService } from './service/account-service.js';
import { AccountSync, TASKS } from './service/account-sync.js';
import { BlockService } from './service/block-service.js';
import { ProfileService } from './service/profile-service.js';
import { purgeDeletedAccounts } from './service/purge.js';
import type { UsersTables } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'users';
/** The schema of this service's durable job queue. */
export const JOBS_SCHEMA = 'users_jobs';

/** user.proto: BlockUser fails with ResourceExhausted past this many blocks. */
const BLOCK_CAP = 10_000;
// Hourly is plenty for a retention counted in days; a missed run is caught up by the next.
const CRONTAB = `0 * * * * ${TASKS.purge}`;

export interface UserDeps {
  readonly db: Database<UsersTables>;
  /** The service's clock; tests move it to reach the purge. */
  readonly now: () => Date;
  /** How many people one person may block; tests lower it. */
  readonly blockCap: number;
}

/** Composition root of the user service: the one place its dependencies are built and wired. */
export class UserApp implements ServiceModule {
  static fromConfig(config: UserConfig, runtime: Runtime, overrides: Partial<UserDeps> = {}): UserApp {
    const db =
      overrides.db ??
      createDatabase<UsersTables>(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-user' },
        { logger: runtime.logger },
      );
    const deps: UserDeps = { db, now: overrides.now ?? (() => new Date()), blockCap: overrides.blockCap ?? BLOCK_CAP };
    return new UserApp(config, runtime, deps);
  }

  readonly mount;
  readonly readiness;
  readonly rules = userRules;
  readonly authorizationSources;
  readonly profiles: ProfileService;
  readonly blocks: BlockService;
  readonly accounts: AccountService;
  readonly #jobs: JobQueue;

  private constructor(
    config: UserConfig,
    runtime: Runtime,
    private readonly deps: UserDeps,
  ) {
    const { db, now } = deps;
    const sync = new AccountSync({
      db,
      jobs: JOBS_SCHEMA,
      auth: () => runtime.serviceClient(AuthService),
      circle: () => runtime.serviceClient(CircleService),
      logger: runtime.logger,
    });
    this.profiles = new ProfileService({ db, now, mediaHosts: config.service.mediaHosts });
    this.blocks = new BlockService({ db, bus: runtime.bus, now, cap: deps.blockCap });
    this.accounts = new AccountService({
      db,
      sync,
      bus: runtime.bus,
      now,
      retentionMs: config.service.deletedRetentionDays * 86_400_000,
    });
    this.#jobs = createJobQueue({
      databaseUrl: config.database.url,
      schema: JOBS_SCHEMA,
      logger: runtime.logger,
      tasks: {
        ...sync.tasks(),
        [TASKS.purge]: async () => {
          await this.purge();
        },
      },
      crontab: CRONTAB,
    });
    const rpc = { profiles: this.profiles, blocks: this.blocks, accounts: this.accounts };
    this.mount = { name: 'user', routes: (router: Parameters<typeof registerRpc>[0]) => registerRpc(router, rpc) };
    this.readiness = [postgresCheck(db, 'postgres:user')];
    this.authorizationSources = { blocks: this.blocks.source() };
  }

  /** Purges the deleted accounts whose retention ended by the service's clock; returns how many. */
  purge(): Promise<number> {
    return purgeDeletedAccounts(this.deps.db, this.deps.now());
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
    await this.#jobs.migrate();
  }

  async start(): Promise<void> {
    await this.#jobs.start();
  }

  async close(): Promise<void> {
    await this.#jobs.stop();
    await this.deps.db.destroy();
  }
}
