export { z } from 'zod';
export { Secret } from './secret.js';
export { type ConfigOf, type ConfigSpec, type EnvLeaf, env, keyRingEnv, leaves, secretEnv } from './spec.js';
export { type ConfigCheck, ConfigError, type ConfigProblem, describeConfig, type LoadOptions, loadConfig } from './load.js';
export * as schemas from './schemas.js';
export { loadServiceConfig, type ServiceConfig, type ServiceConfigOptions, serviceNames, type ServiceName, servicePrefix, sharedSpec } from './shared.js';
