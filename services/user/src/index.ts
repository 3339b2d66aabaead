export { UserApp, type UserDeps, SCHEMA } from './app.js';
export { type UserConfig, userConfigSpec } from './config.js';
