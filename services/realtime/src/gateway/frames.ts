import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { createValidator } from '@bufbuild/protovalidate';
import {
  type ClientFrame,
  ClientFrameSchema,
  ErrorCode,
  type ServerFrame,
  ServerFrameSchema,
} from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';

/** The protocol version this gateway speaks (`Hello.protocol_version`). */
export const PROTOCOL_VERSION = 1;
/** The WebSocket subprotocol apps offer; the gateway selects it when offered. */
export const SUBPROTOCOL = 'hearth.realtime.v1';

const validator = createValidator();

export type DecodeResult = { ok: true; frame: ClientFrame } | { ok: false; reason: string };

/**
 * Decodes and validates one client message. Only binary messages carry frames; anything that
 * fails to decode or breaks a protovalidate rule is refused with a reason fit for the client.
 */
export function decodeClientFrame(data: Buffer, isBinary: boolean): DecodeResult {
  if (!isBinary) return { ok: false, reason: 'text messages are not frames; send binary protobuf ClientFrame' };
  let frame: ClientFrame;
  try {
    frame = fromBinary(ClientFrameSchema, data);
  } catch {
    return { ok: false, reason: 'not a ClientFrame' };
  }
  const result = validator.validate(ClientFrameSchema, frame);
  if (result.kind === 'valid') return { ok: true, frame };
  if (result.kind === 'invalid') {
    const first = result.violations.slice(0, 3).map((v) => v.toString());
    return { ok: false, reason: `invalid frame: ${first.join('; ')}` };
  }
  return { ok: false, reason: 'invalid frame' };
}

export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  return toBinary(ServerFrameSchema, frame);
}

export function errorFrame(
  code: ErrorCode,
  message: string,
  opts: { replyTo?: bigint; closing?: boolean; retryAfterMs?: number; channel?: string } = {},
): ServerFrame {
  return create(ServerFrameSchema, {
    frame: {
      case: 'error',
      value: {
        code,
        message,
        replyTo: opts.replyTo ?? 0n,
        closing: opts.closing ?? false,
        channel: opts.channel ?? '',
        ...(opts.retryAfterMs === undefined ? {} : { retryAfter: durationFromMs(opts.retryAfterMs) }),
      },
    },
  });
}

/** The answer to an authenticated Hello. */
export function welcomeFrame(
  replyTo: bigint,
  connectionId: string,
  identity: { userId: string; sessionId: string },
  limits: {
    heartbeatMs: number;
    maxBufferedBytes: number;
    maxFrameBytes: number;
    maxConnectionsPerUser: number;
    maxSubscriptions: number;
    maxBackfill: number;
    typingIntervalMs: number;
  },
): ServerFrame {
  return create(ServerFrameSchema, {
    frame: {
      case: 'welcome',
      value: {
        replyTo,
        protocolVersion: PROTOCOL_VERSION,
        connectionId,
        userId: identity.userId,
        sessionId: identity.sessionId,
        limits: {
          heartbeatInterval: durationFromMs(limits.heartbeatMs),
          maxBufferedBytes: BigInt(limits.maxBufferedBytes),
          maxFrameBytes: limits.maxFrameBytes,
          maxConnectionsPerUser: limits.maxConnectionsPerUser,
          maxSubscriptions: limits.maxSubscriptions,
          maxBackfill: limits.maxBackfill,
          typingInterval: durationFromMs(limits.typingIntervalMs),
        },
      },
    },
  });
}

export function pongFrame(replyTo: bigint, nonce: bigint): ServerFrame {
  return create(ServerFrameSchema, { frame: { case: 'pong', value: { replyTo, nonce } } });
}

/** WebSocket close code for a closing ServerError: 4000 + the ErrorCode number. */
export function closeCodeFor(code: ErrorCode): number {
  return 4000 + code;
}

export { ErrorCode };
