export { SupportApp, type SupportDeps, SCHEMA } from './app.js';
export { type SupportConfig, supportConfigSpec } from './config.js';
