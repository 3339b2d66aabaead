export { type Clients, connectClients } from './clients.js';
export { TEST_KEY_ENCRYPTION_KEY, TEST_MESSAGE_KEYS, type TestSystem, type TestSystemOptions, baseEnv, startTestSystem } from './harness.js';
export { type Person, SEED_PASSWORD, Seed, bearer } from './seed.js';
export { type ModuleOf, type Name, type OverridesOf, definitions } from './services.js';
export { migratedTemplate, schemaFingerprint } from './template.js';
