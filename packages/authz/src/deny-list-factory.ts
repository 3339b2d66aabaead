import type { Database, EventBus } from '@hearth/db';
import type { Kysely } from 'kysely';
import type { AuthzLogger } from './errors.js';
import { PostgresSessionDenyList } from './postgres-deny-list.js';
import { ReplicatedSessionDenyList } from './replicated-deny-list.js';

/**
 * The deny-list a process uses: a copy in memory of the record in Postgres, kept current by the
 * bus and by syncing (see ReplicatedSessionDenyList). The `authz` schema must be migrated
 * (migrateAuthz) and `start()` called before the first read.
 */
export function createSessionDenyList<DB>(deps: {
  db: Database<DB> | Kysely<DB>;
  bus?: EventBus | undefined;
  logger?: AuthzLogger;
  syncIntervalMs?: number;
}): ReplicatedSessionDenyList {
  const logger = deps.logger ? { logger: deps.logger } : {};
  return new ReplicatedSessionDenyList({
    record: new PostgresSessionDenyList(deps.db, logger),
    bus: deps.bus,
    ...logger,
    ...(deps.syncIntervalMs ? { syncIntervalMs: deps.syncIntervalMs } : {}),
  });
}
