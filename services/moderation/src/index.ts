export { ModerationApp, type ModerationDeps, SCHEMA, moderationService } from './app.js';
export { type ModerationConfig, moderationConfigSpec } from './config.js';
