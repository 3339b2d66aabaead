export { SCHEMA, UserApp, type UserDeps, userService } from './app.js';
export { type UserConfig, userConfigSpec } from './config.js';
export { purgeDeletedAccounts } from './service/purge.js';
export { accountTopic } from './service/topics.js';
export { userJobs } from './service/jobs.js';
