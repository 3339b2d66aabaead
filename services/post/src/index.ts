export { PostApp, type PostDeps, SCHEMA } from './app.js';
export { type PostConfig, postConfigSpec } from './config.js';
