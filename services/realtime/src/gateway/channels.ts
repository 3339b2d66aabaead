import { create } from '@bufbuild/protobuf';
import { timestampFromDate, timestampMs, timestampNow } from '@bufbuild/protobuf/wkt';
import { type BlockSource, type ChatMessageEvent, type MembershipEvent, type MembershipSource, type ReadMarkerEvent, type TypingEvent, isMember } from '@hearth/authz';
import type { Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { MessageSchema } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import {
  type ChannelCursor,
  MembershipChangeKind,
  PresenceStatus,
  type ServerFrame,
  ServerFrameSchema,
  UnsubscribeReason,
} from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ChannelEventSchema } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { isCanonicalUuid, newId } from '@hearth/db';
import type { Logger } from '@hearth/telemetry';
import { ErrorCode, encodeServerFrame, errorFrame } from './frames.js';
import type { GatewayMetrics } from './metrics.js';
import { DEFAULT_PRESENCE_TIMING, PRESENCE_BATCH, PresenceBoard, type PresenceEvent, type PresenceTiming } from './presence.js';

/** The circle service's read for delivery (ChatService.ListMessagesForDelivery). */
export interface MessageHistory {
  read(circleId: string, afterSeq: bigint, limit: number): Promise<{ messages: Message[]; lastSeq: bigint }>;
}

/** Whether people share their presence (UserService.CheckPresenceSharing). */
export interface PresenceSharingSource {
  sharing(userId: string): Promise<boolean>;
}

export interface ChannelSources {
  readonly memberships: MembershipSource;
  readonly blocks: BlockSource;
  readonly history: MessageHistory;
  readonly presenceSharing: PresenceSharingSource;
}

/** What the hub tells the other gateways (the bus). */
export interface GatewayPublisher {
  typing(e: TypingEvent): void;
  presence(e: PresenceEvent): void;
}

export interface ChannelLimits {
  /** Typing frames closer together than this from one socket are dropped (ServerLimits.typing_interval). */
  readonly typingIntervalMs: number;
  /** Channels one socket may hold at once (ServerLimits.max_subscriptions). */
  readonly maxSubscriptions: number;
  /** Missing messages replayed on resume before a Resync is sent instead (ServerLimits.max_backfill). */
  readonly maxBackfill: number;
}

/** One page of a backfill or catch-up read. */
const READ_PAGE = 200;
/** Recent messages kept per circle, so one live event is read once for all its sockets. */
const RECENT_PER_CIRCLE = 256;

/** The id of a `<kind>:<uuid>` channel name (realtime.proto CHANNELS), if it is one of that kind. */
function channelId(channel: string, kind: 'circle' | 'user'): string | undefined {
  const id = channel.startsWith(`${kind}:`) ? channel.slice(kind.length + 1) : undefined;
  return isCanonicalUuid(id) ? id : undefined;
}

const MEMBERSHIP_KIND: Partial<Record<MembershipEvent['change'], MembershipChangeKind>> = {
  joined: MembershipChangeKind.JOINED,
  role: MembershipChangeKind.UPDATED,
  muted: MembershipChangeKind.UPDATED,
  unmuted: MembershipChangeKind.UPDATED,
  left: MembershipChangeKind.LEFT,
  removed: MembershipChangeKind.REMOVED,
  banned: MembershipChangeKind.REMOVED,
};

const ROLE: Record<'owner' | 'host' | 'member', MemberRole> = { owner: MemberRole.OWNER, host: MemberRole.HOST, member: MemberRole.MEMBER };

/** A ChannelEvent frame (unsequenced unless `seq` is given). */
function eventFrame(channel: string, payload: MessageInitShape<typeof ChannelEventSchema>['payload'], seq = 0n): ServerFrame {
  return create(ServerFrameSchema, { frame: { case: 'event', value: { channel, seq, eventTime: timestampNow(), eventId: newId(), payload } } });
}

/** What a socket's channels need of their connection. */
export interface ChannelOwner {
  readonly userId: string;
  send(frame: ServerFrame, opts?: { ephemeral?: boolean }): void;
  /** Sends a frame encoded once for many sockets; `kind` is its frame case (for metrics). */
  sendEncoded(kind: string, bytes: Uint8Array): void;
  /** Closes the socket with a ServerError (when the gateway cannot do its part). */
  fail(code: ErrorCode, message: string, opts: { replyTo?: bigint }): void;
  log: Logger;
}

/**
 * The gateway process's side of channels: who is subscribed to which circle, live chat and
 * membership events from the bus, and recent messages read once per circle for all sockets.
 *
 * Sequenced delivery keeps one rule per subscription: it has delivered every seq up to
 * `delivered` and nothing above, and it only ever moves `delivered` forward by reading the
 * missing range from the circle service in order. A live event, a resume and a reconnect of
 * the bus all go through that one step, queued per subscription, so a backfill overlapping
 * live events sends each seq once, in order, with no gap (DELIVERY CONTRACT in realtime.proto).
 */
export class ChannelHub {
  private readonly byCircle = new Map<string, Set<CircleSubscription>>();
  /** Sockets subscribed to their person's user channel, by user id. */
  private readonly byUser = new Map<string, Set<ChannelOwner>>();
  private readonly recent = new Map<string, RecentMessages>();
  /** One read per circle at a time: sockets catching up together share it through the cache. */
  private readonly reading = new Map<string, Promise<unknown>>();
  /** People with a welcomed socket here: whether they share presence, and how many sockets. */
  private readonly people = new Map<string, { sharing: boolean; sockets: number; told: boolean }>();
  readonly presence: PresenceBoard;

  constructor(
    readonly sources: ChannelSources,
    readonly limits: ChannelLimits,
    private readonly log: Logger,
    readonly metrics: GatewayMetrics,
    readonly out: GatewayPublisher,
    gatewayId: string = newId(),
    presenceTiming: PresenceTiming = DEFAULT_PRESENCE_TIMING,
  ) {
    this.presence = new PresenceBoard(gatewayId, (e) => out.presence(e), (c, u, online) => this.announce(c, u, online), presenceTiming);
  }

  /**
   * A socket of `userId` was welcomed. Whether they share presence is asked once for all their
   * sockets here, without holding up Welcome: until the answer (or if the user service cannot
   * give one) they count as not sharing, and their subscriptions start counting when it says so.
   */
  socketOpened(userId: string): void {
    const known = this.people.get(userId);
    if (known) {
      known.sockets++;
      return;
    }
    const person = { sharing: false, sockets: 1, told: false };
    this.people.set(userId, person);
    this.sources.presenceSharing.sharing(userId).then(
      (sharing) => {
        // A change published meanwhile is newer than this answer.
        if (this.people.get(userId) === person && !person.told) this.applySharing(userId, sharing);
      },
      (err: unknown) => this.log.warn({ err: { message: (err as Error).message } }, 'presence sharing could not be checked; shown offline'),
    );
  }

  /** A welcomed socket closed (after its channels ended). */
  socketClosed(userId: string): void {
    const person = this.people.get(userId);
    if (person && --person.sockets <= 0) this.people.delete(userId);
  }

  /** Whether this person is shown online where their sockets subscribe. */
  sharesPresence(userId: string): boolean {
    return this.people.get(userId)?.sharing ?? false;
  }

  /** Someone turned show_presence on or off: their subscriptions here start or stop counting. */
  onPresenceSharing(userId: string, sharing: boolean): void {
    const person = this.people.get(userId);
    if (!person) return;
    person.told = true;
    this.applySharing(userId, sharing);
  }

  private applySharing(userId: string, sharing: boolean): void {
    const person = this.people.get(userId);
    if (!person || person.sharing === sharing) return;
    person.sharing = sharing;
    for (const subs of this.byCircle.values()) {
      for (const s of subs) if (s.owner.userId === userId) s.countPresence(sharing);
    }
  }

  /** A member came online or went offline in a circle: its other subscribers hear of it. */
  private announce(circleId: string, userId: string, online: boolean): void {
    for (const s of this.byCircle.get(circleId) ?? []) if (s.owner.userId !== userId) s.presenceOf([userId], online);
  }

  /** A realtime.presence event from another gateway. */
  onPresence(e: PresenceEvent): void {
    this.presence.onEvent(e);
  }

  /** A chat.typing event from the bus: to the circle's other sockets, unless a block stands between. */
  onTyping(e: TypingEvent): void {
    for (const s of this.byCircle.get(e.circleId) ?? []) if (s.owner.userId !== e.userId) s.typing(e);
  }

  /** A chat.message event from the bus. */
  onMessage(e: ChatMessageEvent): void {
    const subs = this.byCircle.get(e.circleId);
    if (!subs || subs.size === 0) return;
    if (e.change === 'created') {
      for (const s of subs) s.catchUpTo(BigInt(e.seq), true);
      return;
    }
    // The cached copy is stale now: a later backfill reads the message again.
    this.recent.get(e.circleId)?.forget(BigInt(e.seq));
    if (e.change === 'reacted') {
      if (e.reaction) for (const s of subs) s.reacted(e);
      return;
    }
    // A change to a message: read its state now, once, and send it to those who hold it.
    const how = e.change;
    void this.messageAt(e.circleId, BigInt(e.seq)).then(
      (m) => {
        if (!m) return;
        for (const s of subs) s.changed(m, how);
      },
      (err: unknown) => this.log.warn({ err: { message: (err as Error).message }, circleId: e.circleId }, 'could not read a changed message'),
    );
  }

  /**
   * A circle.membership event: the person's own sockets hear of it on their user channel, and a
   * person who may no longer read a circle loses its channel.
   */
  onMembership(e: MembershipEvent): void {
    if (!e.userId) return;
    const kind = MEMBERSHIP_KIND[e.change];
    const own = this.byUser.get(e.userId);
    if (kind !== undefined && own) {
      const gone = kind === MembershipChangeKind.LEFT || kind === MembershipChangeKind.REMOVED;
      const member =
        !gone && e.member && e.role
          ? {
              circleId: e.circleId,
              userId: e.userId,
              role: ROLE[e.role],
              joinTime: timestampFromDate(new Date(e.member.joinTime)),
              ...(e.member.muteExpireTime ? { muteExpireTime: timestampFromDate(new Date(e.member.muteExpireTime)) } : {}),
              version: BigInt(e.member.version),
            }
          : undefined;
      const frame = eventFrame(`user:${e.userId}`, { case: 'membershipChanged', value: { circleId: e.circleId, kind, ...(member ? { member } : {}) } });
      for (const o of own) o.send(frame);
    }
    if (!(e.change === 'left' || e.change === 'removed' || e.change === 'banned')) return;
    for (const s of [...(this.byCircle.get(e.circleId) ?? [])]) if (s.owner.userId === e.userId) s.revoke();
  }

  /** A chat.read-marker event: the person's other devices move their read position. */
  onReadMarker(e: ReadMarkerEvent): void {
    const own = this.byUser.get(e.userId);
    if (!own) return;
    const frame = eventFrame(`user:${e.userId}`, {
      case: 'readMarkerUpdated',
      value: { circleId: e.circleId, lastSeq: BigInt(e.lastSeq), lastReadSeq: BigInt(e.lastReadSeq), unreadCount: e.unreadCount },
    });
    for (const o of own) o.send(frame);
  }

  joinUser(owner: ChannelOwner): void {
    let set = this.byUser.get(owner.userId);
    if (!set) this.byUser.set(owner.userId, (set = new Set()));
    set.add(owner);
    this.metrics.subscriptions.inc();
  }

  leaveUser(owner: ChannelOwner): void {
    const set = this.byUser.get(owner.userId);
    if (!set?.delete(owner)) return;
    this.metrics.subscriptions.dec();
    if (set.size === 0) this.byUser.delete(owner.userId);
  }

  /**
   * Every subscription reads what it may have missed. The bus delivers at most once (an event
   * published while this process's bus connection was away is lost), so the gateway sweeps its
   * circles each time the bus connection comes back, and on a slow timer as a safety net: a lost
   * message arrives without waiting for the next one, and Redis is never the source of a message.
   */
  sweep(): void {
    for (const [circleId, subs] of this.byCircle) {
      void this.sources.history.read(circleId, 0n, 1).then(
        ({ lastSeq }) => {
          for (const s of subs) s.catchUpTo(lastSeq);
        },
        () => undefined,
      );
    }
  }

  join(s: CircleSubscription): void {
    let set = this.byCircle.get(s.circleId);
    if (!set) this.byCircle.set(s.circleId, (set = new Set()));
    set.add(s);
    this.metrics.subscriptions.inc();
  }

  leave(s: CircleSubscription): void {
    const set = this.byCircle.get(s.circleId);
    if (!set?.delete(s)) return;
    this.metrics.subscriptions.dec();
    if (set.size === 0) {
      this.byCircle.delete(s.circleId);
      this.recent.delete(s.circleId);
    }
  }

  /** Messages with `after < seq <= upTo`, ascending, from the recent cache or the circle service. */
  async range(circleId: string, after: bigint, upTo: bigint): Promise<Message[]> {
    let cache = this.recent.get(circleId);
    if (!cache && this.byCircle.has(circleId)) this.recent.set(circleId, (cache = new RecentMessages()));
    const out: Message[] = [];
    let next = after + 1n;
    while (next <= upTo) {
      const hit = cache?.get(next);
      if (hit) {
        out.push(hit);
        next += 1n;
        continue;
      }
      const pending = this.reading.get(circleId);
      if (pending && cache) {
        await pending.catch(() => undefined);
        if (cache.get(next)) continue;
      }
      const limit = Number(upTo - next + 1n < BigInt(READ_PAGE) ? upTo - next + 1n : BigInt(READ_PAGE));
      const read = this.sources.history.read(circleId, next - 1n, limit);
      this.reading.set(circleId, read);
      let messages: Message[];
      try {
        ({ messages } = await read);
      } finally {
        if (this.reading.get(circleId) === read) this.reading.delete(circleId);
      }
      if (messages.length === 0) break;
      for (const m of messages) {
        cache?.put(m);
        out.push(m);
      }
      next = messages[messages.length - 1]!.seq + 1n;
    }
    return out;
  }

  /**
   * The message_created frame of `m` on its circle's channel, encoded once for every socket
   * that gets it as it is (one event, so one event_id however many sockets or replays).
   */
  createdFrame(circleId: string, m: Message): Uint8Array {
    const cached = this.recent.get(circleId)?.frame(m);
    if (cached) return cached;
    const bytes = encodeServerFrame(eventFrame(`circle:${circleId}`, { case: 'messageCreated', value: m }, m.seq));
    this.recent.get(circleId)?.keepFrame(m, bytes);
    return bytes;
  }

  private async messageAt(circleId: string, seq: bigint): Promise<Message | undefined> {
    const { messages } = await this.sources.history.read(circleId, seq - 1n, 1);
    return messages[0]?.seq === seq ? messages[0] : undefined;
  }
}

/** The last RECENT_PER_CIRCLE messages of one circle, by seq, with their encoded frames. */
class RecentMessages {
  private readonly bySeq = new Map<bigint, Message>();
  private readonly frames = new WeakMap<Message, Uint8Array>();

  get(seq: bigint): Message | undefined {
    return this.bySeq.get(seq);
  }

  /** The encoded message_created frame of `m`, if it is the copy held here. */
  frame(m: Message): Uint8Array | undefined {
    return this.bySeq.get(m.seq) === m ? this.frames.get(m) : undefined;
  }

  keepFrame(m: Message, bytes: Uint8Array): void {
    if (this.bySeq.get(m.seq) === m) this.frames.set(m, bytes);
  }

  put(m: Message): void {
    this.bySeq.set(m.seq, m);
    if (this.bySeq.size > RECENT_PER_CIRCLE) {
      const oldest = this.bySeq.keys().next().value;
      if (oldest !== undefined) this.bySeq.delete(oldest);
    }
  }

  forget(seq: bigint): void {
    this.bySeq.delete(seq);
  }
}

/** One socket's subscription to one circle's channel. */
export class CircleSubscription {
  /** Every seq up to here was delivered (or handed to a Resync); nothing above it was. */
  private delivered = 0n;
  private queue: Promise<void>;
  private active = true;
  private started = false;
  /** Counted as its person's presence in the circle. */
  private present = false;
  private open: () => void = () => undefined;

  /**
   * Joins the circle's live events at once, holding every step until `begin` says where the
   * subscription starts: an event published while the head is being read is then queued, not
   * missed.
   */
  constructor(
    private readonly hub: ChannelHub,
    readonly owner: ChannelOwner,
    readonly circleId: string,
    private readonly onEnd: (s: CircleSubscription) => void,
  ) {
    this.queue = new Promise<void>((resolve) => (this.open = resolve));
  }

  /** Starts the subscription after `start` (held back steps run from here). */
  begin(start: bigint): void {
    this.delivered = start;
    this.started = true;
    this.open();
    // Who is here already, then this person (if they share presence) for everyone else.
    const others = this.hub.presence.onlineIn(this.circleId).filter((u) => u !== this.owner.userId);
    if (others.length > 0) this.presenceOf(others, true);
    this.countPresence(this.hub.sharesPresence(this.owner.userId));
  }

  /** Counts this subscription as its person's presence in the circle, or stops counting it. */
  countPresence(sharing: boolean): void {
    if (!this.active || !this.started || sharing === this.present) return;
    this.present = sharing;
    if (sharing) this.hub.presence.add(this.circleId, this.owner.userId);
    else this.hub.presence.remove(this.circleId, this.owner.userId);
  }

  /**
   * Tells this socket that people came online or went offline here, leaving out those it has a
   * block with. Ephemeral; a status that changed again meanwhile is not sent stale.
   */
  presenceOf(userIds: readonly string[], online: boolean): void {
    const status = online ? PresenceStatus.ONLINE : PresenceStatus.OFFLINE;
    void (async () => {
      for (let i = 0; i < userIds.length; i += PRESENCE_BATCH) {
        const batch = userIds.slice(i, i + PRESENCE_BATCH);
        const blocked = await this.hub.sources.blocks.blockedAmong(this.owner.userId, batch);
        for (const userId of batch) {
          if (!this.active || blocked.has(userId) || this.hub.presence.isOnline(this.circleId, userId) !== online) continue;
          this.owner.send(eventFrame(this.channel, { case: 'presenceChanged', value: { userId, status } }), { ephemeral: true });
        }
      }
    })().catch(() => undefined);
  }

  get channel(): string {
    return `circle:${this.circleId}`;
  }

  /**
   * Delivers every message up to `seq` not delivered yet, in order; queued behind earlier
   * steps. `live`: prompted by a new message (its fan-out latency is measured).
   */
  catchUpTo(seq: bigint, live = false): Promise<void> {
    this.queue = this.queue.then(() => this.deliverUpTo(seq, live)).catch((err: unknown) => {
      // The circle service is unreachable: the next event or reconnect reads the range again.
      this.owner.log.warn({ err: { message: (err as Error).message }, circleId: this.circleId }, 'channel catch-up failed');
    });
    return this.queue;
  }

  /**
   * On resume: replays from `from` up to `head`, or, past the backfill limit, says which range
   * to fetch (Resync) and goes on live from `head`.
   */
  resume(head: bigint): Promise<void> {
    if (head - this.delivered > BigInt(this.hub.limits.maxBackfill)) {
      const from = this.delivered + 1n;
      this.delivered = head;
      this.hub.metrics.resyncs.inc();
      this.owner.send(create(ServerFrameSchema, { frame: { case: 'resync', value: { channel: this.channel, fromSeq: from, toSeq: head } } }));
      return this.queue;
    }
    return this.catchUpTo(head);
  }

  /** An edit, deletion, pin or unpin of a message this socket holds (seq <= delivered): sent unsequenced. */
  changed(m: Message, how: 'edited' | 'deleted' | 'pinned' | 'unpinned'): void {
    const payloadCase = ({ edited: 'messageEdited', deleted: 'messageDeleted', pinned: 'messagePinned', unpinned: 'messageUnpinned' } as const)[how];
    this.queue = this.queue.then(async () => {
      if (!this.active || m.seq > this.delivered) return;
      const shown = await this.forViewer([m]);
      this.emit(0n, { case: payloadCase, value: shown[0]! });
    });
  }

  /** A reaction added or removed on a message this socket holds, unless its words are hidden from it. */
  reacted(e: ChatMessageEvent): void {
    const r = e.reaction;
    if (!r) return;
    this.queue = this.queue.then(async () => {
      if (!this.active || BigInt(e.seq) > this.delivered) return;
      if (e.senderId && e.senderId !== this.owner.userId) {
        if ((await this.hub.sources.blocks.blockedAmong(this.owner.userId, [e.senderId])).has(e.senderId)) return;
      }
      this.owner.send(
        eventFrame(this.channel, {
          case: 'reactionChanged',
          value: { circleId: e.circleId, messageId: e.messageId, emoji: r.emoji, count: r.count, userId: r.userId, added: r.added, messageVersion: BigInt(r.version) },
        }),
      );
    });
  }

  /** Someone else is typing in the circle: an ephemeral event, not for a person they have a block with. */
  typing(e: TypingEvent): void {
    void this.hub.sources.blocks.blockedAmong(this.owner.userId, [e.userId]).then(
      (blocked) => {
        if (!this.active || blocked.has(e.userId)) return;
        this.owner.send(
          eventFrame(this.channel, {
            case: 'typing',
            value: { userId: e.userId, isTyping: e.isTyping, threadRootId: e.threadRootId ?? '', expireTime: timestampFromDate(new Date(e.expireTime)) },
          }),
          { ephemeral: true },
        );
      },
      () => undefined,
    );
  }

  /** How many messages were sent past `seq` (the app's Ack): the delivery lag. */
  lagBehind(seq: bigint): number {
    return Number(this.delivered > seq ? this.delivered - seq : 0n);
  }

  /** Ends the subscription because the person may no longer read the circle. */
  revoke(): void {
    if (!this.active) return;
    this.end();
    this.owner.send(
      create(ServerFrameSchema, {
        frame: { case: 'unsubscribed', value: { replyTo: 0n, channel: this.channel, reason: UnsubscribeReason.ACCESS_REVOKED } },
      }),
    );
  }

  end(): void {
    if (!this.active) return;
    if (this.present) this.hub.presence.remove(this.circleId, this.owner.userId);
    this.present = false;
    this.active = false;
    this.onEnd(this);
  }

  private async deliverUpTo(seq: bigint, live: boolean): Promise<void> {
    if (!this.active || seq <= this.delivered) return;
    const messages = await this.hub.range(this.circleId, this.delivered, seq);
    const shown = await this.forViewer(messages);
    for (const m of shown) {
      if (!this.active) return;
      // Only the next seq moves the cursor: a short read leaves the rest to the next step.
      if (m.seq !== this.delivered + 1n) break;
      if (m.hiddenByBlock) this.emit(m.seq, { case: 'messageCreated', value: m });
      else this.owner.sendEncoded('event', this.hub.createdFrame(this.circleId, m));
      this.delivered = m.seq;
      if (live && m.createTime) this.hub.metrics.fanout.observe(Math.max(0, Date.now() - timestampMs(m.createTime)) / 1000);
    }
  }

  /** The socket's person sees the words of anyone they have a block with as a placeholder. */
  private async forViewer(messages: readonly Message[]): Promise<Message[]> {
    const senders = [...new Set(messages.map((m) => m.senderId).filter((s) => s !== '' && s !== this.owner.userId))];
    const blocked = senders.length > 0 ? await this.hub.sources.blocks.blockedAmong(this.owner.userId, senders) : new Set<string>();
    return messages.map((m) =>
      blocked.has(m.senderId) ? create(MessageSchema, { ...m, body: '', mentionUserIds: [], reactions: [], hiddenByBlock: true }) : m,
    );
  }

  private emit(seq: bigint, payload: { case: 'messageCreated' | 'messageEdited' | 'messageDeleted' | 'messagePinned' | 'messageUnpinned'; value: Message }): void {
    this.owner.send(eventFrame(this.channel, payload, seq));
  }
}

/**
 * One socket's channels: Subscribe and Unsubscribe as realtime.proto describes them, for
 * `circle:<id>` (members; PERMISSION_DENIED otherwise) and `user:<id>` (only the socket's own
 * person: their memberships changing and their read positions moving on other devices).
 */
export class SocketChannels {
  private readonly subs = new Map<string, CircleSubscription>();
  /** This socket's user channel, if subscribed. */
  private userChannel: string | undefined;
  private closed = false;
  /** When this socket last said it was typing, per channel (made on first use). */
  private lastTyping: Map<string, number> | undefined;

  constructor(
    private readonly hub: ChannelHub,
    private readonly owner: ChannelOwner,
  ) {}

  async subscribe(cursors: readonly ChannelCursor[], replyTo: bigint): Promise<void> {
    for (const cursor of cursors) {
      if (this.closed) return;
      await this.subscribeOne(cursor, replyTo);
    }
  }

  unsubscribe(channels: readonly string[], replyTo: bigint): void {
    for (const channel of channels) {
      this.subs.get(channel)?.end();
      if (channel === this.userChannel) this.endUserChannel();
      this.owner.send(
        create(ServerFrameSchema, { frame: { case: 'unsubscribed', value: { replyTo, channel, reason: UnsubscribeReason.REQUESTED } } }),
      );
    }
  }

  /**
   * Typing in a subscribed circle goes to the circle's other sockets on every gateway. Frames
   * closer together than the typing interval are dropped silently (a stop always goes out), as
   * are those of a muted member; an unsubscribed channel is PERMISSION_DENIED.
   */
  async typing(t: { channel: string; isTyping: boolean; threadRootId?: string }, replyTo: bigint): Promise<void> {
    const sub = this.subs.get(t.channel);
    if (!sub) {
      this.owner.send(errorFrame(ErrorCode.PERMISSION_DENIED, 'subscribe to the channel before typing in it', { replyTo, channel: t.channel }));
      return;
    }
    const now = Date.now();
    const last = this.lastTyping?.get(t.channel) ?? 0;
    if (t.isTyping && now - last < this.hub.limits.typingIntervalMs) return;
    (this.lastTyping ??= new Map()).set(t.channel, t.isTyping ? now : 0);
    const access = await this.hub.sources.memberships.membership(sub.circleId, this.owner.userId).catch(() => undefined);
    if (!access || access.role === undefined || (access.mutedUntil && access.mutedUntil.getTime() > now)) return;
    this.hub.out.typing({
      circleId: sub.circleId,
      userId: this.owner.userId,
      isTyping: t.isTyping,
      ...(t.threadRootId ? { threadRootId: t.threadRootId } : {}),
      expireTime: new Date(now + 2 * this.hub.limits.typingIntervalMs).toISOString(),
    });
  }

  /** An Ack: measured as delivery lag (realtime.proto: delivery never waits for it). */
  ack(channel: string, seq: bigint): void {
    const sub = this.subs.get(channel);
    if (sub) this.hub.metrics.ackLag.observe(sub.lagBehind(seq));
  }

  close(): void {
    this.closed = true;
    for (const s of [...this.subs.values()]) s.end();
    this.endUserChannel();
  }

  private endUserChannel(): void {
    if (this.userChannel === undefined) return;
    this.userChannel = undefined;
    this.hub.leaveUser(this.owner);
  }

  private subscribeUser(channel: string, userId: string, replyTo: bigint): void {
    if (userId !== this.owner.userId) {
      this.owner.send(errorFrame(ErrorCode.PERMISSION_DENIED, "a user channel is only its own user's", { replyTo, channel }));
      return;
    }
    if (this.userChannel === undefined) {
      if (this.subs.size + 1 > this.hub.limits.maxSubscriptions) {
        this.owner.send(errorFrame(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `at most ${this.hub.limits.maxSubscriptions} channels per socket`, { replyTo, channel }));
        return;
      }
      this.userChannel = channel;
      this.hub.joinUser(this.owner);
    }
    this.owner.send(create(ServerFrameSchema, { frame: { case: 'subscribed', value: { replyTo, channel, headSeq: 0n } } }));
  }

  private async subscribeOne(cursor: ChannelCursor, replyTo: bigint): Promise<void> {
    const refuse = (code: ErrorCode, message: string) => this.owner.send(errorFrame(code, message, { replyTo, channel: cursor.channel }));
    const userId = channelId(cursor.channel, 'user');
    if (userId) return this.subscribeUser(cursor.channel, userId, replyTo);
    const circleId = channelId(cursor.channel, 'circle');
    if (!circleId) return refuse(ErrorCode.PERMISSION_DENIED, 'no such channel');
    const existing = this.subs.get(cursor.channel);
    if (!existing && this.subs.size + (this.userChannel ? 1 : 0) >= this.hub.limits.maxSubscriptions) {
      return refuse(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `at most ${this.hub.limits.maxSubscriptions} channels per socket`);
    }
    const cannotOpen = (err: unknown) => {
      // The circle service cannot answer: INTERNAL closes; the app reconnects with backoff and resumes.
      this.owner.log.warn({ err: { message: (err as Error).message }, circleId }, 'channel access could not be checked');
      this.owner.fail(ErrorCode.INTERNAL, `could not open ${cursor.channel} now; reconnect later and resume`, { replyTo });
    };
    try {
      const access = await this.hub.sources.memberships.membership(circleId, this.owner.userId);
      if (!isMember(access)) return refuse(ErrorCode.PERMISSION_DENIED, 'only members of the circle may subscribe to it');
    } catch (err) {
      return cannotOpen(err);
    }
    if (this.closed) return;
    existing?.end();
    // Live events from here on are queued in the subscription before the head is read, so a
    // message stored in between is delivered by its event or by the replay, never by neither.
    const sub = new CircleSubscription(this.hub, this.owner, circleId, (s) => {
      this.hub.leave(s);
      if (this.subs.get(s.channel) === s) this.subs.delete(s.channel);
    });
    this.subs.set(cursor.channel, sub);
    this.hub.join(sub);
    let head: bigint;
    try {
      ({ lastSeq: head } = await this.hub.sources.history.read(circleId, 0n, 1));
    } catch (err) {
      sub.end();
      return cannotOpen(err);
    }
    if (this.closed) return sub.end();
    const start = cursor.lastSeq === undefined || cursor.lastSeq > head ? head : cursor.lastSeq;
    this.owner.send(create(ServerFrameSchema, { frame: { case: 'subscribed', value: { replyTo, channel: cursor.channel, headSeq: head } } }));
    if (cursor.lastSeq !== undefined) this.hub.metrics.resumes.inc();
    sub.begin(start);
    void sub.resume(head);
  }
}
