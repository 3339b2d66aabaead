export { freePort } from './free-port.js';
export {
  type EmbeddedPostgres,
  type EmbeddedPostgresLogger,
  type EmbeddedPostgresOptions,
  type EmbeddedPostgresOwnership,
  type RunningEmbeddedPostgres,
  runningEmbeddedPostgres,
  startEmbeddedPostgres,
  stopEmbeddedPostgresAt,
} from './embedded-postgres.js';
export { MACHINE_POSTGRES_URL, type TestDatabase, createTestDatabase, ensurePostgres, sharedEmbeddedPostgres } from './postgres.js';
export { type TestRedis, createTestRedis } from './redis.js';
export { type Rng, createRng, deriveSeed } from './random.js';
export { repoRoot } from './repo-root.js';
export { refusal } from './refusal.js';
export { type TcpProxy, startTcpProxy } from './tcp-proxy.js';
export { provideTestServices } from './containers.js';
