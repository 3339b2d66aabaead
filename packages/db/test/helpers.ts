import { afterAll } from 'vitest';
import { createTestDatabase } from '@hearth/testkit';
import { type DbConfig, type DbLogger, type Database, createDatabase } from '../src/index.js';

export interface LogEntry {
  level: 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A logger that keeps what it is told, so tests can assert that failures were logged. */
export function memoryLogger(): DbLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
  };
}

/**
 * A database of its own for this test file, dropped when the file ends; `open()` makes
 * Database instances on it that are destroyed before the drop.
 */
export async function testDatabase(): Promise<{
  url: string;
  open<DB = unknown>(cfg: Partial<DbConfig> & { schema: string }, logger?: DbLogger): Database<DB>;
}> {
  const testDb = await createTestDatabase({ prefix: 'db' });
  const opened: Database<unknown>[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.destroy()));
    await testDb.drop();
  });
  return {
    url: testDb.url,
    open<DB>(cfg: Partial<DbConfig> & { schema: string }, logger?: DbLogger): Database<DB> {
      const db = createDatabase<DB>(
        {
          url: testDb.url,
          poolMax: 4,
          connectionTimeoutMs: 5_000,
          idleTimeoutMs: 10_000,
          statementTimeoutMs: 5_000,
          applicationName: 'hearth-db-test',
          ...cfg,
        },
        logger ? { logger } : {},
      );
      opened.push(db as Database<unknown>);
      return db;
    },
  };
}
