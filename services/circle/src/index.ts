export { CircleApp, type CircleDeps, SCHEMA } from './app.js';
export { type CircleConfig, circleConfigSpec } from './config.js';
