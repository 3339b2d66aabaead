import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type Runtime, type ServiceModule, postgresCheck } from '@hearth/platform';
import type { UserConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'users';

export interface UserDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the user service: the one place its dependencies are built and wired. */
export class UserApp implements ServiceModule {
  static fromConfig(config: UserConfig, runtime: Runtime, overrides: Partial<UserDeps> = {}): UserApp {
    const db =
      overrides.db ??
      createDatabase(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-user' },
        { logger: runtime.logger },
      );
    return new UserApp({ db });
  }

  readonly mount;
  readonly readiness;

  private constructor(private readonly deps: UserDeps) {
    this.mount = { name: 'user', routes: registerRpc };
    this.readiness = [postgresCheck(deps.db, 'postgres:user')];
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
  }

  async close(): Promise<void> {
    await this.deps.db.destroy();
  }
}
