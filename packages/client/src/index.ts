export { createHearthClient, type HearthClient, type HearthClientOptions } from './client.js';
export { bearerAuth } from './auth.js';
export { refreshWith, sessionAuth } from './session-auth.js';
export { type Refresher, type SessionTokens, TokenStore, type TokenStoreOptions } from './token-store.js';
export {
  type CircleHandlers,
  CircleFeed,
  REALTIME_SUBPROTOCOL,
  RealtimeClient,
  type RealtimeOptions,
  type RealtimeStatus,
  type SocketFactory,
  type SocketLike,
} from './realtime.js';
export { ChatOutbox, type OutboxOptions, type Outgoing, type OutgoingState } from './outbox.js';
