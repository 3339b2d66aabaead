export { createHostAuthentication, type HostAuthentication, JWKS_PATH } from './authentication.js';
export { createHostAuthorization, type HostAuthorization } from './authorization.js';
export { type EventBus, postgresBus, redisBus } from './bus.js';
export { createJobQueue, enqueueJob, type EnqueueOptions, type JobQueue, type JobQueueOptions, type JobTask } from './jobs.js';
export { type ServiceClientFactory, serviceClients } from './service-clients.js';
export { type ClientAddress, clientAddressKey } from './client-address.js';
export { type HealthState, postgresCheck, type ReadinessCheck, redisCheck, registerHealthRoutes } from './health.js';
export { type Host, type HostOptions, type ServiceModule, startHost } from './host.js';
export { type Closeable, runMain } from './main.js';
export { type BaseRuntime, createRuntime, type Runtime, type RuntimeOverrides, type SharedConfig } from './runtime.js';
export {
  createServer,
  type HearthServer,
  type ServerConfig,
  type ServerOptions,
  type ServiceMount,
  type TelemetryDeps,
} from './server.js';
