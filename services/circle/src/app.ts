import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type Runtime, type ServiceModule, postgresCheck } from '@hearth/platform';
import type { CircleConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'circles';

export interface CircleDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the circle service: the one place its dependencies are built and wired. */
export class CircleApp implements ServiceModule {
  static fromConfig(config: CircleConfig, runtime: Runtime, overrides: Partial<CircleDeps> = {}): CircleApp {
    const db =
      overrides.db ??
      createDatabase(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-circle' },
        { logger: runtime.logger },
      );
    return new CircleApp({ db });
  }

  readonly mount;
  readonly readiness;

  private constructor(private readonly deps: CircleDeps) {
    this.mount = { name: 'circle', routes: registerRpc };
    this.readiness = [postgresCheck(deps.db, 'postgres:circle')];
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
  }

  async close(): Promise<void> {
    await this.deps.db.destroy();
  }
}
