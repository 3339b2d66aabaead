export { SupportApp, type SupportDeps, SCHEMA, supportService } from './app.js';
export { type SupportConfig, supportConfigSpec } from './config.js';
