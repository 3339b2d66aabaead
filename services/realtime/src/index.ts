export { RealtimeApp } from './app.js';
export { type RealtimeConfig, realtimeConfigSpec } from './config.js';
