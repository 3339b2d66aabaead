import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type Runtime, type ServiceModule, postgresCheck } from '@hearth/platform';
import type { ModerationConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { moderationRules } from './rpc/rules.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'moderation';

export interface ModerationDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the moderation service: the one place its dependencies are built and wired. */
export class ModerationApp implements ServiceModule {
  static fromConfig(config: ModerationConfig, runtime: Runtime, overrides: Partial<ModerationDeps> = {}): ModerationApp {
    const db =
      overrides.db ??
      createDatabase(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-moderation' },
        { logger: runtime.logger },
      );
    return new ModerationApp({ db });
  }

  readonly mount;
  readonly readiness;
  readonly rules = moderationRules;

  private constructor(private readonly deps: ModerationDeps) {
    this.mount = { name: 'moderation', routes: registerRpc };
    this.readiness = [postgresCheck(deps.db, 'postgres:moderation')];
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
  }

  async close(): Promise<void> {
    await this.deps.db.destroy();
  }
}
