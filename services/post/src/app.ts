import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type Runtime, type ServiceModule, postgresCheck } from '@hearth/platform';
import type { PostConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { postRules } from './rpc/rules.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'posts';

export interface PostDeps {
  readonly db: Database<unknown>;
}

/** Composition root of the post service: the one place its dependencies are built and wired. */
export class PostApp implements ServiceModule {
  static fromConfig(config: PostConfig, runtime: Runtime, overrides: Partial<PostDeps> = {}): PostApp {
    const db =
      overrides.db ??
      createDatabase(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-post' },
        { logger: runtime.logger },
      );
    return new PostApp({ db });
  }

  readonly mount;
  readonly readiness;
  readonly rules = postRules;

  private constructor(private readonly deps: PostDeps) {
    this.mount = { name: 'post', routes: registerRpc };
    this.readiness = [postgresCheck(deps.db, 'postgres:post')];
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
  }

  async close(): Promise<void> {
    await this.deps.db.destroy();
  }
}
