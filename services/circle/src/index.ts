export { CircleApp, type CircleDeps, SCHEMA, circleService } from './app.js';
export { type CircleConfig, circleConfigSpec } from './config.js';
