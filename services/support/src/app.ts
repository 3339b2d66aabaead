import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type Runtime, type ServiceModule, postgresCheck } from '@hearth/platform';
import type { SupportConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { supportRules } from './rpc/rules.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'support';

export interface SupportDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the support service: the one place its dependencies are built and wired. */
export class SupportApp implements ServiceModule {
  static fromConfig(config: SupportConfig, runtime: Runtime, overrides: Partial<SupportDeps> = {}): SupportApp {
    const db =
      overrides.db ??
      createDatabase(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-support' },
        { logger: runtime.logger },
      );
    return new SupportApp({ db });
  }

  readonly mount;
  readonly readiness;
  readonly rules = supportRules;

  private constructor(private readonly deps: SupportDeps) {
    this.mount = { name: 'support', routes: registerRpc };
    this.readiness = [postgresCheck(deps.db, 'postgres:support')];
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
  }

  async close(): Promise<void> {
    await this.deps.db.destroy();
  }
}
