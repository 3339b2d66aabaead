import type { Logger } from '@hearth/telemetry';
import type { WebSocket } from 'ws';
import type { ClientFrame, ServerFrame } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { ErrorCode, PROTOCOL_VERSION, closeCodeFor, decodeClientFrame, encodeServerFrame, errorFrame, pongFrame } from './frames.js';

export interface ConnectionLimits {
  readonly heartbeatMs: number;
  readonly helloTimeoutMs: number;
  readonly maxBufferedBytes: number;
}

/**
 * One socket's side of the protocol. It enforces what holds for every socket whatever the
 * features behind it: binary validated frames only, Hello first and in time, a supported
 * protocol version, heartbeats that find dead peers, and a bound on what a slow consumer may
 * have buffered.
 *
 * Authenticating Hello (token or cookie) belongs to the auth issue and channel subscriptions to
 * the chat issue; until they land a valid Hello is refused with UNIMPLEMENTED rather than
 * welcomed into a session that could deliver nothing.
 */
export class Connection {
  private closed = false;
  private awaitingPong = false;
  private readonly helloTimer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
    this.helloTimer = setTimeout(() => this.fail(ErrorCode.HELLO_TIMEOUT, 'no Hello in time'), limits.helloTimeoutMs);
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', () => this.dispose());
    ws.on('error', (err) => {
      this.log.debug({ err: { message: err.message } }, 'socket error');
      this.dispose();
    });
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    const decoded = decodeClientFrame(data, isBinary);
    if (!decoded.ok) return this.fail(ErrorCode.INVALID_FRAME, decoded.reason);
    this.handle(decoded.frame);
  }

  private handle(frame: ClientFrame): void {
    switch (frame.frame.case) {
      case 'ping':
        return this.send(pongFrame(frame.id, frame.frame.value.nonce));
      case 'hello': {
        clearTimeout(this.helloTimer);
        if (frame.frame.value.protocolVersion !== PROTOCOL_VERSION) {
          return this.fail(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, `this gateway speaks protocol ${PROTOCOL_VERSION}`, frame.id);
        }
        return this.fail(ErrorCode.UNIMPLEMENTED, 'authenticated sessions are not available yet', frame.id);
      }
      default:
        // Anything but Ping before a Welcome is out of order.
        return this.fail(ErrorCode.UNAUTHENTICATED, 'send Hello first', frame.id);
    }
  }

  /** Sends a frame unless the peer is already too far behind; then it is closed as slow. */
  send(frame: ServerFrame): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      return this.close(ErrorCode.SLOW_CONSUMER, 'too many frames buffered');
    }
    this.ws.send(encodeServerFrame(frame), { binary: true });
  }

  /** Reports a problem with a closing ServerError, then closes with 4000 + code. */
  fail(code: ErrorCode, message: string, replyTo?: bigint): void {
    if (this.closed) return;
    this.ws.send(encodeServerFrame(errorFrame(code, message, { closing: true, ...(replyTo ? { replyTo } : {}) })), { binary: true });
    this.close(code, message);
  }

  private close(code: ErrorCode, message: string): void {
    if (this.closed) return;
    this.log.debug({ code: ErrorCode[code], message }, 'closing socket');
    this.dispose();
    this.ws.close(closeCodeFor(code), ErrorCode[code]);
  }

  private beat(): void {
    if (this.awaitingPong) {
      // Two intervals without a pong: the peer is gone; don't wait for TCP to notice.
      this.log.debug({}, 'peer missed heartbeat');
      this.dispose();
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    this.ws.ping();
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearInterval(this.heartbeat);
  }
}
