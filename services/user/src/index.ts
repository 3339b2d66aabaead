export { UserApp, type UserDeps, SCHEMA, JOBS_SCHEMA } from './app.js';
export { type UserConfig, userConfigSpec } from './config.js';
export { purgeDeletedAccounts } from './service/purge.js';
