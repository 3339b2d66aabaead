export { AuthApp, type AuthDeps, SCHEMA } from './app.js';
export { type AuthConfig, authConfigSpec } from './config.js';
