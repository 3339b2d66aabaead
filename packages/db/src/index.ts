export { canonicalUuid, isCanonicalUuid, isUuid, newId } from './ids.js';
export {
  type CommitHook,
  type CommitHooks,
  type DbConfig,
  type DbLogger,
  type TransactionOptions,
  type Tx,
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
export { InvalidPageTokenError, type PageCodec, PageTokens, filteredPage, pageField, pageSizeOf } from './page-tokens.js';
export { type AuditEntry, type AuditEventsTable, createAuditTable, writeAudit } from './audit.js';
export { VersionConflictError, assertVersion } from './versions.js';
export { FieldCipher, FieldCipherError, type RingKey, type SealedField } from './field-cipher.js';
export { type EventBus, type EventPublisher, type Topic, defineTopic } from './topics.js';
export { type EnqueueOptions, type JobDefinition, JobQueueRef, defineJob } from './jobs.js';
export {
  isConnectionFailure,
  isQueryCanceled,
  isSerializationFailure,
  isUniqueViolation,
  pgErrorCode,
} from './errors.js';
