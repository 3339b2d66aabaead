export { createHearthClient, type HearthClient, type HearthClientOptions } from './client.js';
export { bearerAuth } from './auth.js';
