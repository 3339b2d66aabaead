import { type ConfigSpec, type ServiceConfig, env, schemas } from '@hearth/config';

/** Variables only the realtime gateway reads (prefix HEARTH_REALTIME_). */
export const realtimeConfigSpec = {
  heartbeatMs: env('HEARTH_REALTIME_HEARTBEAT_MS', schemas.positiveInt(25_000, 300_000), 'ping interval; two missed pongs close the socket'),
  helloTimeoutMs: env('HEARTH_REALTIME_HELLO_TIMEOUT_MS', schemas.positiveInt(10_000, 60_000), 'time a new socket has to send Hello'),
  maxFrameBytes: env('HEARTH_REALTIME_MAX_FRAME_BYTES', schemas.positiveInt(64 * 1024, 1_048_576), 'largest client frame accepted'),
  maxBufferedBytes: env(
    'HEARTH_REALTIME_MAX_BUFFERED_BYTES',
    schemas.positiveInt(1_048_576, 64 * 1_048_576),
    'outgoing bytes a slow consumer may have queued before it is closed',
  ),
} as const satisfies ConfigSpec;

export type RealtimeConfig = ServiceConfig<typeof realtimeConfigSpec>;
