import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import type { Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import {
  type ChannelCursorSchema,
  type ChannelEvent,
  type ClientFrame,
  ClientFrameSchema,
  ErrorCode,
  type ServerFrame,
  ServerFrameSchema,
} from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';

/** The WebSocket subprotocol of realtime.proto. */
export const REALTIME_SUBPROTOCOL = 'hearth.realtime.v1';

/** The parts of the WebSocket API the client uses (browsers' and Node's global WebSocket). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string, protocol: string) => SocketLike;

export interface RealtimeOptions {
  /** The origin Hearth serves on, e.g. https://api.example.org; the socket is at /v1/realtime. */
  readonly baseUrl: string;
  /** The access token for Hello; undefined for cookie-mode web apps (the cookie goes with the upgrade). */
  readonly accessToken: () => string | undefined | Promise<string | undefined>;
  /** The chat client gaps and Resync ranges are fetched with (ListMessages). */
  readonly chat: Client<typeof ChatService>;
  /** Opens sockets; default the global WebSocket. */
  readonly socket?: SocketFactory;
  /** Reconnect backoff: from `initialMs`, doubling to `maxMs`, each wait jittered. Default 1 s to 30 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
  /** Told about state changes and problems; for logs and UI. */
  readonly onStatus?: (status: RealtimeStatus) => void;
}

export type RealtimeStatus =
  | { readonly state: 'connecting' }
  | { readonly state: 'open' }
  | { readonly state: 'closed'; readonly code: number; readonly reason: string; readonly retryInMs: number | undefined }
  | { readonly state: 'error'; readonly code: ErrorCode; readonly message: string; readonly channel: string };

/** What an app hears from one circle's channel. */
export interface CircleHandlers {
  /** Each new message once, in seq order, with no gaps (missing ones are fetched first). */
  onMessage(m: Message): void;
  /** An edit or deletion of a message already delivered (apply it if its version is newer). */
  onChanged?(m: Message): void;
  /** The channel was closed by the server (ACCESS_REVOKED, or a refused subscription). */
  onEnded?(reason: string): void;
  /**
   * Every other event of the channel, typed by `payload.case`: reactions, pins, typing,
   * presence, member and circle changes (unsequenced: keep the copy with the highest version;
   * not replayed after a reconnect, so refresh what is on screen then).
   */
  onEvent?(e: ChannelEvent): void;
}

const GAP_PAGE = 100;
/** How soon a gap fill that failed is tried again. */
const RETRY_FILL_MS = 1_000;
const CLOSE_GIVE_UP = new Set([ErrorCode.UNAUTHENTICATED, ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, ErrorCode.TOO_MANY_CONNECTIONS].map((c) => 4000 + c));

/**
 * The realtime half of the SDK (realtime.proto's DELIVERY CONTRACT, from the app's side): one
 * socket that resumes every followed circle from the highest seq it holds, reconnects with
 * jittered exponential backoff, and hands each message to the app once, in seq order: it drops
 * what it already delivered, fetches what is missing (a gap, or a Resync range) with
 * ChatService.ListMessages while holding back what arrives meanwhile, and never skips a seq.
 */
export class RealtimeClient {
  private ws: SocketLike | undefined;
  private readonly circles = new Map<string, CircleFeed>();
  private attempts = 0;
  private stopped = true;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1n;

  constructor(private readonly opts: RealtimeOptions) {}

  /** Follows a circle from `lastSeq` (the highest seq the app holds with nothing missing; 0 for all). */
  follow(circleId: string, lastSeq: bigint, handlers: CircleHandlers): CircleFeed {
    const feed = new CircleFeed(circleId, lastSeq, handlers, this.opts.chat);
    this.circles.set(circleId, feed);
    if (this.ws?.readyState === 1) this.frame({ case: 'subscribe', value: { channels: [feed.cursor()] } });
    return feed;
  }

  /** Opens the socket (and keeps reopening it) until `close`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.open();
  }

  /** Closes the socket for good. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = undefined;
  }

  /** Drops the current socket as a network failure would (tests, "airplane mode"); it reconnects. */
  drop(): void {
    this.ws?.close(4999, 'dropped by the app');
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.opts.onStatus?.({ state: 'connecting' });
    const token = await this.opts.accessToken();
    const url = `${this.opts.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/v1/realtime`;
    const factory = this.opts.socket ?? ((u, p) => new WebSocket(u, p) as unknown as SocketLike);
    const ws = factory(url, REALTIME_SUBPROTOCOL);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.frame({
        case: 'hello',
        value: { protocolVersion: 1, accessToken: token ?? '', resume: [...this.circles.values()].map((f) => f.cursor()) },
      });
    };
    ws.onmessage = (ev) => {
      const data = ev.data instanceof ArrayBuffer ? new Uint8Array(ev.data) : (ev.data as Uint8Array);
      this.receive(fromBinary(ServerFrameSchema, data));
    };
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      // Followed circles keep what they hold: the resume replays from there.
      if (this.stopped || CLOSE_GIVE_UP.has(ev.code)) {
        this.opts.onStatus?.({ state: 'closed', code: ev.code, reason: ev.reason, retryInMs: undefined });
        return;
      }
      const { initialMs, maxMs } = this.opts.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
      const ceiling = Math.min(maxMs, initialMs * 2 ** this.attempts++);
      // Full jitter: a crowd reconnecting after an outage spreads out instead of stampeding.
      const wait = Math.round(ceiling / 2 + (ceiling / 2) * (this.opts.random ?? Math.random)());
      this.opts.onStatus?.({ state: 'closed', code: ev.code, reason: ev.reason, retryInMs: wait });
      this.timer = setTimeout(() => void this.open(), wait);
    };
  }

  private receive(frame: ServerFrame): void {
    switch (frame.frame.case) {
      case 'welcome':
        this.attempts = 0;
        this.opts.onStatus?.({ state: 'open' });
        for (const f of this.circles.values()) f.refill();
        return;
      case 'event': {
        const e = frame.frame.value;
        const feed = this.circles.get(e.channel.slice('circle:'.length));
        if (!feed) return;
        if (e.payload.case === 'messageCreated') feed.live(e.payload.value);
        else if (e.payload.case === 'messageEdited' || e.payload.case === 'messageDeleted') feed.changed(e.payload.value);
        else feed.event(e);
        return;
      }
      case 'resync': {
        const r = frame.frame.value;
        this.circles.get(r.channel.slice('circle:'.length))?.resync(r.toSeq);
        return;
      }
      case 'unsubscribed': {
        const u = frame.frame.value;
        const id = u.channel.slice('circle:'.length);
        this.circles.get(id)?.end('unsubscribed');
        this.circles.delete(id);
        return;
      }
      case 'error': {
        const e = frame.frame.value;
        this.opts.onStatus?.({ state: 'error', code: e.code, message: e.message, channel: e.channel });
        if (!e.closing && e.channel.startsWith('circle:')) {
          const id = e.channel.slice('circle:'.length);
          this.circles.get(id)?.end(ErrorCode[e.code]);
          this.circles.delete(id);
        }
        return;
      }
      default:
        return;
    }
  }

  private frame(frame: MessageInitShape<typeof ClientFrameSchema>['frame']): void {
    const f: ClientFrame = create(ClientFrameSchema, { id: this.nextId++, frame });
    this.ws?.send(toBinary(ClientFrameSchema, f));
  }
}

/**
 * One followed circle: delivers messages once, in seq order, filling gaps with ListMessages.
 * `held` is the highest seq delivered with nothing missing below it.
 */
export class CircleFeed {
  private held: bigint;
  /** Messages that arrived ahead of a gap, waiting for it to be filled. */
  private readonly ahead = new Map<bigint, Message>();
  private filling: Promise<void> | undefined;
  private ended = false;
  /** What the feed absorbed: messages it already had, and messages it fetched to fill gaps. */
  readonly stats = { duplicatesDropped: 0, filled: 0 };

  constructor(
    readonly circleId: string,
    start: bigint,
    private readonly handlers: CircleHandlers,
    private readonly chat: Client<typeof ChatService>,
  ) {
    this.held = start;
  }

  /** The highest seq delivered with nothing missing below it. */
  get lastSeq(): bigint {
    return this.held;
  }

  cursor(): MessageInitShape<typeof ChannelCursorSchema> {
    return { channel: `circle:${this.circleId}`, lastSeq: this.held };
  }

  live(m: Message): void {
    if (this.ended) return;
    if (m.seq <= this.held || this.ahead.has(m.seq)) {
      this.stats.duplicatesDropped++;
      return;
    }
    this.ahead.set(m.seq, m);
    this.drain();
    if (this.ahead.size > 0) void this.fill(this.maxAhead());
  }

  changed(m: Message): void {
    if (!this.ended && m.seq <= this.held) this.handlers.onChanged?.(m);
  }

  event(e: ChannelEvent): void {
    if (!this.ended) this.handlers.onEvent?.(e);
  }

  /** Fetches what a gap still waits for (after a reconnect). */
  refill(): void {
    if (this.ahead.size > 0) void this.fill(this.maxAhead());
  }

  /** The gateway will not send up to `toSeq`: fetch it. */
  resync(toSeq: bigint): void {
    void this.fill(toSeq);
  }

  end(reason: string): void {
    this.ended = true;
    this.handlers.onEnded?.(reason);
  }

  private drain(): void {
    for (let next = this.ahead.get(this.held + 1n); next; next = this.ahead.get(this.held + 1n)) {
      this.ahead.delete(next.seq);
      this.held = next.seq;
      this.handlers.onMessage(next);
    }
    for (const seq of this.ahead.keys()) if (seq <= this.held) this.ahead.delete(seq);
  }

  private maxAhead(): bigint {
    let max = this.held;
    for (const seq of this.ahead.keys()) if (seq > max) max = seq;
    return max;
  }

  /** Fetches (held, upTo] with ListMessages, one fill at a time. */
  private fill(upTo: bigint): Promise<void> {
    const run = async () => {
      while (!this.ended && this.held < upTo) {
        const page = await this.chat.listMessages({ circleId: this.circleId, position: { case: 'afterSeq', value: this.held }, pageSize: GAP_PAGE });
        if (page.messages.length === 0) return;
        for (const m of page.messages) {
          if (m.seq <= this.held || this.ahead.has(m.seq)) continue;
          this.ahead.set(m.seq, m);
          this.stats.filled++;
        }
        const before = this.held;
        this.drain();
        if (this.held === before) return;
      }
    };
    this.filling = (this.filling ?? Promise.resolve()).then(run).catch(() => {
      // Offline, or the server busy: try again shortly (and the resume after reconnecting, or
      // the next live message, fills it too), so a gap never waits for a message that may not come.
      if (!this.ended && this.held < upTo) setTimeout(() => void this.fill(upTo), RETRY_FILL_MS);
    });
    return this.filling;
  }
}
