export { newId } from './id.js';
export {
  type CommitHook,
  type DbConfig,
  type DbLogger,
  type TransactionContext,
  type TransactionOptions,
  Database,
  assertSchemaName,
  createDatabase,
} from './database.js';
export {
  type MigrateOptions,
  type MigrationStatus,
  type Migrations,
  MigrationError,
  migrateToLatest,
  migrationStatus,
} from './migrate.js';
export { InvalidCursorError, decodeCursor, encodeCursor } from './cursor.js';
export { isSerializationFailure, isUniqueViolation, pgErrorCode } from './errors.js';
