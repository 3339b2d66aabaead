export type {
  HostAddress,
  ReadinessCheck,
  RedisAccess,
  Runtime,
  ServiceClientFactory,
  ServiceDefinition,
  ServiceModule,
  Sessions,
  SharedConfig,
} from './contract.js';
export { type HostRuntime, type RuntimeOptions, type RuntimeOverrides, createRuntime } from './runtime.js';
export { type Host, type HostOptions, type HostedService, migrateServices, startHost } from './host.js';
export { createRequestPipeline } from './pipeline.js';
export { type HearthServer, type ServerConfig, type ServerOptions, createServer } from './server.js';
export { ServiceApp, type ServiceAppParts, serviceDatabase } from './service-app.js';
export { type Closeable, describeStartFailure, runMain, runService } from './main.js';
export { StartupError } from './startup-error.js';
export { type JobHandler, type JobQueue, type JobQueueOptions, PermanentJobError, createJobQueue, handle } from './jobs.js';
export { postgresBus, redisBus } from './bus.js';
export { type GuardedRedis, RedisUnavailableError, connectRedis, guardRedis } from './redis.js';
export { hostAddress, loopback, serviceClients } from './service-clients.js';
export { type ClientAddress, clientAddressKey } from './client-address.js';
export { addressKey } from './address-key.js';
export { type HealthState, postgresCheck, redisCheck, registerHealthRoutes } from './health.js';
export { inputInterceptor, isStorableText } from './input.js';
export { known as knownError, knownErrorsInterceptor } from './known-errors.js';
export { validationInterceptor } from './validation.js';
export {
  type CounterBackend,
  type CounterSpec,
  STORE_TIMEOUT_MS,
  memoryBackend,
  postgresBackend,
  redisBackend,
  resilient,
  waitAtMost,
  whileAvailable,
} from './limits/stores.js';
export { BUCKETS_PER_WINDOW, SlidingWindow, WindowCount } from './limits/sliding-window.js';
export { WriteBudget, exhausted } from './limits/budget.js';
