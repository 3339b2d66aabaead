import { Code, ConnectError } from '@connectrpc/connect';
import type { Identity } from '@hearth/authz';
import type { Logger } from '@hearth/telemetry';
import type { WebSocket } from 'ws';
import type { ClientFrame, Hello, ServerFrame } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { ErrorCode, PROTOCOL_VERSION, closeCodeFor, decodeClientFrame, encodeServerFrame, errorFrame, pongFrame, welcomeFrame } from './frames.js';

export interface ConnectionLimits {
  readonly heartbeatMs: number;
  readonly helloTimeoutMs: number;
  readonly maxBufferedBytes: number;
  readonly maxFrameBytes: number;
}

/** How a socket learns who is on the other end, and whether that session still holds. */
export interface SocketAuth {
  /** Verifies Hello's token, or the upgrade request's cookie; throws ConnectError. */
  authenticate(accessToken: string): Promise<Identity>;
  /** True once the session was revoked (checked on every heartbeat). */
  isRevoked(sessionId: string): Promise<boolean>;
}

/**
 * One socket's side of the protocol. It enforces what holds for every socket whatever the
 * features behind it: binary validated frames only, Hello first and in time, a supported
 * protocol version, heartbeats that find dead peers, and a bound on what a slow consumer may
 * have buffered.
 *
 * Hello is authenticated (token, else the upgrade's cookie) and answered with Welcome; the
 * socket closes with UNAUTHENTICATED when its session is revoked (seen at the next heartbeat).
 * Channel frames belong to the chat issue; until it lands they are answered UNIMPLEMENTED.
 */
export class Connection {
  private closed = false;
  private awaitingPong = false;
  /** Set between Hello and its verdict, so a second Hello is refused even while it is pending. */
  private helloSeen = false;
  private identity: Identity | undefined;
  private readonly helloTimer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    readonly connectionId: string,
    private readonly limits: ConnectionLimits,
    private readonly auth: SocketAuth,
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
        if (this.helloSeen) return this.fail(ErrorCode.INVALID_FRAME, 'Hello was already sent', frame.id);
        this.helloSeen = true;
        clearTimeout(this.helloTimer);
        if (frame.frame.value.protocolVersion !== PROTOCOL_VERSION) {
          return this.fail(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, `this gateway speaks protocol ${PROTOCOL_VERSION}`, frame.id);
        }
        void this.welcome(frame.frame.value, frame.id);
        return;
      }
      default:
        // Anything but Ping before a Welcome is out of order.
        if (!this.identity) return this.fail(ErrorCode.UNAUTHENTICATED, 'send Hello first', frame.id);
        return this.fail(ErrorCode.UNIMPLEMENTED, 'channels are not available yet', frame.id);
    }
  }

  private async welcome(hello: Hello, id: bigint): Promise<void> {
    try {
      const identity = await this.auth.authenticate(hello.accessToken);
      if (this.closed) return;
      this.identity = identity;
      this.log.info({ userId: identity.userId, sessionId: identity.sessionId }, 'socket authenticated');
      this.send(welcomeFrame(id, this.connectionId, identity, this.limits));
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied) {
        return this.fail(ErrorCode.UNAUTHENTICATED, e.rawMessage, id);
      }
      this.log.warn({ err: { code: Code[e.code], message: e.rawMessage } }, 'socket authentication failed');
      return this.fail(ErrorCode.INTERNAL, 'authentication is unavailable, retry later', id);
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
    if (this.identity) void this.checkSession(this.identity.sessionId);
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

  private async checkSession(sessionId: string): Promise<void> {
    try {
      if (await this.auth.isRevoked(sessionId)) this.fail(ErrorCode.UNAUTHENTICATED, 'the session ended');
    } catch (err) {
      // The deny-list fails closed for RPCs; an open socket is kept and asked again next beat.
      this.log.warn({ err: { message: (err as Error).message } }, 'session check failed');
    }
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearInterval(this.heartbeat);
  }
}
