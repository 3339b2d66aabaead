import { Code, ConnectError } from '@connectrpc/connect';
import type { Identity } from '@hearth/authz';
import type { Logger } from '@hearth/telemetry';
import type { WebSocket } from 'ws';
import type { ClientFrame, Hello, ServerFrame } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { type ChannelHub, type ChannelOwner, SocketChannels } from './channels.js';
import { FrameInbox } from './frame-inbox.js';
import { ErrorCode, PROTOCOL_VERSION, closeCodeFor, decodeClientFrame, encodeServerFrame, errorFrame, pongFrame, welcomeFrame } from './frames.js';
import type { Displaceable, SocketLease } from './socket-caps.js';

export interface ConnectionLimits {
  readonly heartbeatMs: number;
  readonly helloTimeoutMs: number;
  readonly maxBufferedBytes: number;
  readonly maxFrameBytes: number;
  /** Reported in Welcome; enforced by SocketCaps. */
  readonly maxConnectionsPerUser: number;
  /** Frames that may wait behind one still being handled (e.g. behind Hello). */
  readonly maxQueuedFrames: number;
  /** Reported in Welcome; enforced by SocketChannels. */
  readonly maxSubscriptions: number;
  readonly maxBackfill: number;
  readonly typingIntervalMs: number;
}

/** What a Hello may fall back on: the upgrade request's cookie and Origin (kept until Welcome). */
export interface UpgradeCredentials {
  readonly cookie?: string | undefined;
  readonly origin?: string | undefined;
}

/** How a socket learns who is on the other end, and whether that session still holds (one per gateway). */
export interface SocketAuth {
  /** Verifies Hello's token, or the upgrade request's cookie; throws ConnectError. */
  authenticate(accessToken: string, upgrade: UpgradeCredentials): Promise<Identity>;
  /** True once the session was revoked (checked on every heartbeat). */
  isRevoked(sessionId: string): Promise<boolean>;
}

/**
 * A socket displaced by a newer one of the same user waits at least this long before it
 * reconnects (ServerError.retry_after), so devices over the cap do not take turns displacing
 * each other in a tight loop.
 */
const DISPLACED_RETRY_AFTER_MS = 30_000;

/** Sends a closing ServerError, then closes with 4000 + code and the code's name as reason. */
export function closeWithError(ws: WebSocket, code: ErrorCode, message: string, opts: { replyTo?: bigint; retryAfterMs?: number } = {}): void {
  ws.send(encodeServerFrame(errorFrame(code, message, { ...opts, closing: true })), { binary: true });
  ws.close(closeCodeFor(code), ErrorCode[code]);
}

/**
 * One socket's side of the protocol. It enforces what holds for every socket whatever the
 * features behind it: binary validated frames only, Hello first and answered in time, a
 * supported protocol version, frames handled in the order they arrived, heartbeats that find
 * dead peers, and a bound on what a slow consumer may have buffered.
 *
 * Hello is authenticated (token, else the upgrade's cookie) and answered with Welcome; frames
 * sent after Hello wait in the inbox until then. Once welcomed, the socket counts against its
 * user's cap and may be displaced by a newer one. It closes with UNAUTHENTICATED when its
 * session is revoked (seen at the next heartbeat). Subscribe, Unsubscribe, Typing and Ack
 * (and Hello's resume cursors) go to the socket's channels (channels.ts), for which the
 * connection is the owner.
 *
 * Ten thousand idle sockets must fit in about 100 MB, so a welcomed socket keeps little of its
 * own: no upgrade headers, no logger or closures of its own, and its heartbeat is driven by the
 * gateway's one timer (`beat`).
 */
export class Connection implements Displaceable, ChannelOwner {
  private closed = false;
  private awaitingPong = false;
  /** Set between Hello and its verdict, so a second Hello is refused in its turn. */
  private helloSeen = false;
  private identity: Identity | undefined;
  private channels: SocketChannels | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private upgrade: UpgradeCredentials | undefined;
  private readonly inbox: FrameInbox;

  constructor(
    private readonly ws: WebSocket,
    readonly connectionId: string,
    private readonly limits: ConnectionLimits,
    private readonly auth: SocketAuth,
    upgrade: UpgradeCredentials,
    private readonly lease: SocketLease,
    readonly log: Logger,
    private readonly hub: ChannelHub,
  ) {
    this.upgrade = upgrade.cookie === undefined && upgrade.origin === undefined ? undefined : upgrade;
    this.hub.metrics.sockets.inc({ state: 'unwelcomed' });
    // Runs until Welcome, not just until Hello: the unauthenticated caps count on sockets
    // leaving that state in bounded time, even if authentication stalls.
    this.helloTimer = setTimeout(() => this.helloExpired(), limits.helloTimeoutMs);
    // One frame's worth of bytes may wait: an app never needs more ahead of Welcome.
    this.inbox = new FrameInbox(
      { maxFrames: limits.maxQueuedFrames, maxBytes: limits.maxFrameBytes },
      (data, isBinary) => this.receive(data, isBinary),
      (err) => {
        this.log.error({ err, connection: this.connectionId }, 'frame handler failed');
        this.fail(ErrorCode.INTERNAL, 'the gateway failed to handle a frame');
      },
    );
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.closed || this.inbox.push(data, isBinary)) return;
      this.fail(
        ErrorCode.INVALID_FRAME,
        `more than ${limits.maxQueuedFrames} frames or ${limits.maxFrameBytes} bytes were sent ahead of the gateway's answers`,
      );
    });
    ws.on('close', () => this.dispose());
    ws.on('error', (err) => {
      this.log.debug({ err: { message: err.message }, connection: this.connectionId }, 'socket error');
      this.dispose();
    });
  }

  private receive(data: Buffer, isBinary: boolean): void | Promise<void> {
    if (this.closed) return;
    const decoded = decodeClientFrame(data, isBinary);
    this.hub.metrics.framesIn.inc({ kind: decoded.ok ? (decoded.frame.frame.case ?? 'none') : 'invalid' });
    if (!decoded.ok) return this.fail(ErrorCode.INVALID_FRAME, decoded.reason);
    return this.handle(decoded.frame);
  }

  private handle(frame: ClientFrame): void | Promise<void> {
    switch (frame.frame.case) {
      case 'ping':
        return this.send(pongFrame(frame.id, frame.frame.value.nonce));
      case 'hello': {
        if (this.helloSeen) return this.fail(ErrorCode.INVALID_FRAME, 'Hello was already sent', { replyTo: frame.id });
        this.helloSeen = true;
        if (frame.frame.value.protocolVersion !== PROTOCOL_VERSION) {
          return this.fail(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, `this gateway speaks protocol ${PROTOCOL_VERSION}`, { replyTo: frame.id });
        }
        // The inbox holds later frames until this settles, so they are answered after Welcome.
        return this.welcome(frame.frame.value, frame.id);
      }
      default:
        // Frames after Hello only reach here once it succeeded; before Hello they are out of order.
        if (!this.identity || !this.channels) return this.fail(ErrorCode.UNAUTHENTICATED, 'send Hello first', { replyTo: frame.id });
        switch (frame.frame.case) {
          case 'subscribe':
            return this.channels.subscribe(frame.frame.value.channels, frame.id);
          case 'unsubscribe':
            return this.channels.unsubscribe(frame.frame.value.channels, frame.id);
          case 'typing':
            return this.channels.typing(frame.frame.value, frame.id);
          case 'ack':
            return this.channels.ack(frame.frame.value.channel, frame.frame.value.seq);
          default:
            return this.fail(ErrorCode.UNIMPLEMENTED, `${frame.frame.case ?? 'this'} frames are not available yet`, { replyTo: frame.id });
        }
    }
  }

  private async welcome(hello: Hello, id: bigint): Promise<void> {
    let identity: Identity;
    try {
      identity = await this.auth.authenticate(hello.accessToken, this.upgrade ?? {});
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied) {
        return this.fail(ErrorCode.UNAUTHENTICATED, e.rawMessage, { replyTo: id });
      }
      this.log.warn({ err: { code: Code[e.code], message: e.rawMessage }, connection: this.connectionId }, 'socket authentication failed');
      return this.fail(ErrorCode.INTERNAL, 'authentication is unavailable, retry later', { replyTo: id });
    }
    if (this.closed) return;
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.upgrade = undefined;
    for (const older of this.lease.authenticate(identity.userId, this)) older.displace();
    this.identity = identity;
    this.hub.metrics.sockets.dec({ state: 'unwelcomed' });
    this.hub.metrics.sockets.inc({ state: 'welcomed' });
    this.channels = new SocketChannels(this.hub, this);
    this.hub.socketOpened(identity.userId);
    this.log.info({ userId: identity.userId, sessionId: identity.sessionId, connection: this.connectionId }, 'socket authenticated');
    this.send(welcomeFrame(id, this.connectionId, identity, this.limits));
    if (hello.resume.length > 0) await this.channels.subscribe(hello.resume, id);
  }

  /** The person on the other end (once welcomed; channels exist only then). */
  get userId(): string {
    return this.identity?.userId ?? '';
  }

  /** The session this socket was welcomed for, if it was. */
  get sessionId(): string | undefined {
    return this.identity?.sessionId;
  }

  /** Closes this socket because its session ended (logout, revocation, suspension, deletion). */
  sessionEnded(): void {
    this.fail(ErrorCode.UNAUTHENTICATED, 'the session ended');
  }

  /** Closes this socket because a newer one of the same user took its place under the cap. */
  displace(): void {
    this.fail(ErrorCode.TOO_MANY_CONNECTIONS, 'a newer socket of this user took its place', { retryAfterMs: DISPLACED_RETRY_AFTER_MS });
  }

  /**
   * Sends a frame unless the peer is already too far behind; then it is closed as slow. Past
   * half the buffer, ephemeral frames (typing, presence) are dropped first, so what matters
   * keeps its room.
   */
  send(frame: ServerFrame, opts: { ephemeral?: boolean } = {}): void {
    this.sendEncoded(frame.frame.case ?? 'none', () => encodeServerFrame(frame), opts);
  }

  /** Sends a frame already encoded (one message event encoded once for all its sockets). */
  sendEncoded(kind: string, bytes: Uint8Array | (() => Uint8Array), opts: { ephemeral?: boolean } = {}): void {
    if (this.closed) return;
    if (opts.ephemeral && this.ws.bufferedAmount > this.limits.maxBufferedBytes / 2) {
      this.hub.metrics.dropped.inc();
      return;
    }
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      return this.close(ErrorCode.SLOW_CONSUMER, 'too many frames buffered');
    }
    this.hub.metrics.framesOut.inc({ kind });
    this.ws.send(typeof bytes === 'function' ? bytes() : bytes, { binary: true });
  }

  /** Reports a problem with a closing ServerError, then closes with 4000 + code. */
  fail(code: ErrorCode, message: string, opts: { replyTo?: bigint; retryAfterMs?: number } = {}): void {
    if (this.closed) return;
    this.log.debug({ code: ErrorCode[code], message, connection: this.connectionId }, 'closing socket');
    this.hub.metrics.closes.inc({ reason: ErrorCode[code] });
    this.hub.metrics.framesOut.inc({ kind: 'error' });
    this.dispose();
    closeWithError(this.ws, code, message, opts);
  }

  private close(code: ErrorCode, message: string): void {
    if (this.closed) return;
    this.log.debug({ code: ErrorCode[code], message, connection: this.connectionId }, 'closing socket');
    this.hub.metrics.closes.inc({ reason: ErrorCode[code] });
    this.dispose();
    this.ws.close(closeCodeFor(code), ErrorCode[code]);
  }

  private helloExpired(): void {
    if (!this.helloSeen) return this.fail(ErrorCode.HELLO_TIMEOUT, 'no Hello in time');
    this.log.warn({ connection: this.connectionId }, 'socket authentication did not finish in time');
    this.fail(ErrorCode.INTERNAL, 'authentication did not finish in time, retry later');
  }

  /** The gateway's heartbeat timer, every `heartbeatMs`: pings, reaps a silent peer, rechecks the session. */
  beat(): void {
    if (this.closed) return;
    if (this.identity) void this.checkSession(this.identity.sessionId);
    if (this.awaitingPong) {
      // Two intervals without a pong: the peer is gone; don't wait for TCP to notice.
      this.log.debug({ connection: this.connectionId }, 'peer missed heartbeat');
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
      this.log.warn({ err: { message: (err as Error).message }, connection: this.connectionId }, 'session check failed');
    }
  }

  /** Ends the socket's claims at once (timers, waiting frames, its place under the caps). */
  private dispose(): void {
    const first = !this.closed;
    if (first) this.hub.metrics.sockets.dec({ state: this.identity ? 'welcomed' : 'unwelcomed' });
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.inbox.stop();
    this.lease.release();
    this.channels?.close();
    if (first && this.identity) this.hub.socketClosed(this.identity.userId);
  }
}
