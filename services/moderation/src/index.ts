export { ModerationApp, type ModerationDeps, SCHEMA } from './app.js';
export { type ModerationConfig, moderationConfigSpec } from './config.js';
