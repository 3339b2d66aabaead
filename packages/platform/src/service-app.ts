import type { ConnectRouter } from '@connectrpc/connect';
import type { ServiceRules } from '@hearth/authz';
import type { ServiceName } from '@hearth/config';
import { type Database, type Migrations, createDatabase, migrateToLatest } from '@hearth/db';
import type { FastifyInstance } from 'fastify';
import type { ReadinessCheck, Runtime, ServiceModule } from './contract.js';
import { postgresCheck } from './health.js';
import type { JobQueue } from './jobs.js';

/** Opens a service's pool on its own schema, named so operators can tell it in pg_stat_activity. */
export function serviceDatabase<DB>(runtime: Runtime, name: ServiceName, schema: string): Database<DB> {
  return createDatabase<DB>(
    { ...runtime.config.database, schema, idleTimeoutMs: 30_000, applicationName: `hearth-${name}` },
    { logger: runtime.logger },
  );
}

export interface ServiceAppParts<DB> {
  readonly db: Database<DB>;
  readonly migrations: Migrations;
  /** The service's durable job queue, when it has one: migrated, started and stopped with it. */
  readonly jobs?: JobQueue | undefined;
  readonly logger?: Runtime['logger'];
}

/**
 * The steps every service's composition root shares, written once: readiness of its database,
 * migrating its schema then its job queue, starting and stopping its workers, closing its pool.
 * A service's app.ts extends it, builds everything in its `fromConfig` (no I/O, no timers), and
 * overrides `onStart`/`onStop` for timers of its own.
 */
export abstract class ServiceApp<DB> implements ServiceModule {
  abstract readonly name: ServiceName;
  abstract readonly rules: readonly ServiceRules[];
  readonly #parts: ServiceAppParts<DB>;
  readonly #readiness: readonly ReadinessCheck[];

  protected constructor(parts: ServiceAppParts<DB>, readiness: readonly ReadinessCheck[] = []) {
    this.#parts = parts;
    this.#readiness = readiness;
  }

  /** The service's database ("postgres:<service>"), then any checks of its own. */
  get readiness(): readonly ReadinessCheck[] {
    return [postgresCheck(this.#parts.db, `postgres:${this.name}`), ...this.#readiness];
  }

  /** The service's database handle (tests read rows through it). */
  get db(): Database<DB> {
    return this.#parts.db;
  }

  abstract routes(router: ConnectRouter): void;
  http?(app: FastifyInstance): void | Promise<void>;

  async migrate(): Promise<void> {
    const logger = this.#parts.logger;
    await migrateToLatest(this.#parts.db, { schema: this.#parts.db.schema, migrations: this.#parts.migrations, ...(logger ? { logger } : {}) });
    await this.#parts.jobs?.migrate();
  }

  async start(): Promise<void> {
    await this.#parts.jobs?.start();
    await this.onStart();
  }

  async stop(): Promise<void> {
    await this.onStop();
    await this.#parts.jobs?.stop();
  }

  async close(): Promise<void> {
    // Also after migrate alone (npm run migrate), which opens the queue's pool but starts nothing.
    await this.#parts.jobs?.stop();
    await this.#parts.db.destroy();
  }

  /** Timers of the service's own; called after its job workers started. */
  protected async onStart(): Promise<void> {}
  /** Stops what onStart started; called before the job workers stop. */
  protected async onStop(): Promise<void> {}
}
