export { RealtimeApp, realtimeService } from './app.js';
export { type RealtimeConfig, realtimeConfigSpec } from './config.js';
