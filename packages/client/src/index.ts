export { createHearthClient, type HearthClient, type HearthClientOptions } from './client.js';
export { bearerAuth } from './auth.js';
export { refreshWith, sessionAuth } from './session-auth.js';
export { type Refresher, type SessionTokens, TokenStore, type TokenStoreOptions } from './token-store.js';
