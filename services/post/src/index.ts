export { PostApp, type PostDeps, SCHEMA, postService } from './app.js';
export { type PostConfig, postConfigSpec } from './config.js';
export { postPages } from './service/model.js';
