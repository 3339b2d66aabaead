export { AuthApp, type AuthDeps, SCHEMA, authService } from './app.js';
export { type AuthConfig, authConfigChecks, authConfigSpec } from './config.js';
export { authJobs } from './store/jobs.js';
