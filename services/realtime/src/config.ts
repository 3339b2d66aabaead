import { type ConfigSpec, type ServiceConfig, env, schemas } from '@hearth/config';

/** Variables only the realtime gateway reads (prefix HEARTH_REALTIME_). */
export const realtimeConfigSpec = {
  heartbeatMs: env('HEARTH_REALTIME_HEARTBEAT_MS', schemas.positiveInt(25_000, 300_000), 'ping interval; two missed pongs close the socket'),
  helloTimeoutMs: env(
    'HEARTH_REALTIME_HELLO_TIMEOUT_MS',
    schemas.positiveInt(10_000, 60_000),
    'time a new socket has to send Hello and be authenticated',
  ),
  maxFrameBytes: env('HEARTH_REALTIME_MAX_FRAME_BYTES', schemas.positiveInt(64 * 1024, 1_048_576), 'largest client frame accepted'),
  maxBufferedBytes: env(
    'HEARTH_REALTIME_MAX_BUFFERED_BYTES',
    schemas.positiveInt(1_048_576, 64 * 1_048_576),
    'outgoing bytes a slow consumer may have queued before it is closed',
  ),
  maxConnectionsPerUser: env(
    'HEARTH_REALTIME_MAX_CONNECTIONS_PER_USER',
    schemas.positiveInt(10, 1_000),
    "authenticated sockets one user may hold per gateway process; one more closes the user's oldest",
  ),
  maxUnauthenticatedPerAddress: env(
    'HEARTH_REALTIME_MAX_UNAUTHENTICATED_PER_ADDRESS',
    schemas.positiveInt(20, 100_000),
    'sockets not yet welcomed one client address (IPv6: one /64) may hold per process; more are closed at once',
  ),
  maxUnauthenticated: env(
    'HEARTH_REALTIME_MAX_UNAUTHENTICATED',
    schemas.positiveInt(1_000, 1_000_000),
    'sockets not yet welcomed the whole process may hold; more are closed at once',
  ),
  maxQueuedFrames: env(
    'HEARTH_REALTIME_MAX_QUEUED_FRAMES',
    schemas.positiveInt(32, 1_024),
    'frames a socket may send ahead of the gateway (e.g. right after Hello); more close it',
  ),
  typingIntervalMs: env(
    'HEARTH_REALTIME_TYPING_INTERVAL_MS',
    schemas.positiveInt(3_000, 60_000),
    'how often apps repeat Typing; more frequent frames are dropped, indicators expire after twice this',
  ),
  maxSubscriptions: env('HEARTH_REALTIME_MAX_SUBSCRIPTIONS', schemas.positiveInt(100, 10_000), 'channels one socket may subscribe to at once'),
  maxBackfill: env(
    'HEARTH_REALTIME_MAX_BACKFILL',
    schemas.positiveInt(1_000, 100_000),
    'missing messages replayed per channel on resume; more are left to the app (Resync)',
  ),
} as const satisfies ConfigSpec;

export type RealtimeConfig = ServiceConfig<typeof realtimeConfigSpec>;
