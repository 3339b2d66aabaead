import { defineTopic, isCanonicalUuid } from '@hearth/db';
import { z } from 'zod';

const uuid = z.string().refine((s) => isCanonicalUuid(s), 'a canonical UUID');

/** Users named in one presence event at most (a refresh of a large circle is split). */
export const PRESENCE_BATCH = 100;

/**
 * realtime.presence, between gateways: who this gateway holds online in a circle.
 * - `online` / `offline`: a user's first socket on this gateway subscribed to the circle, or
 *   its last one went;
 * - `refresh`: everyone this gateway holds in the circle, again (a lease: entries not refreshed
 *   expire, so a gateway that crashed or lost its bus stops counting);
 * - `ask`: a gateway that just started or got its bus back asks the others to refresh.
 */
export const presenceTopic = defineTopic(
  'realtime.presence',
  z.object({
    gatewayId: z.string().min(1).max(64),
    kind: z.enum(['online', 'offline', 'refresh', 'ask']),
    circleId: uuid.optional(),
    userIds: z.array(uuid).max(PRESENCE_BATCH).default([]),
  }),
);
export type PresenceEvent = z.output<typeof presenceTopic.payload>;

export interface PresenceTiming {
  /** How often this gateway refreshes what it holds. */
  readonly refreshMs: number;
  /** How long another gateway's entry counts without a refresh. */
  readonly leaseMs: number;
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { refreshMs: 20_000, leaseMs: 65_000 };

/**
 * Who is online in which circle, as this gateway knows it: its own sockets counted exactly, the
 * other gateways' from the bus as leases. A member is online in a circle while any gateway holds
 * a socket of theirs subscribed to it (realtime.proto PresenceChanged). `announce` is told each
 * time that changes for a circle, once, whichever gateway the change came from; a lost `offline`
 * still ends in one when its lease runs out, and a lost `online` is made good by the next refresh.
 */
export class PresenceBoard {
  /** circle -> user -> sockets on this gateway. */
  private readonly local = new Map<string, Map<string, number>>();
  /** circle -> user -> gateway -> lease expiry (ms). */
  private readonly remote = new Map<string, Map<string, Map<string, number>>>();

  constructor(
    readonly gatewayId: string,
    private readonly publish: (e: PresenceEvent) => void,
    private readonly announce: (circleId: string, userId: string, online: boolean) => void,
    private readonly timing: PresenceTiming = DEFAULT_PRESENCE_TIMING,
    private readonly now: () => number = Date.now,
  ) {}

  isOnline(circleId: string, userId: string): boolean {
    return (this.local.get(circleId)?.get(userId) ?? 0) > 0 || this.heldElsewhere(circleId, userId);
  }

  /** Everyone online in the circle now. */
  onlineIn(circleId: string): string[] {
    const users = new Set(this.local.get(circleId)?.keys());
    for (const userId of this.remote.get(circleId)?.keys() ?? []) users.add(userId);
    return [...users];
  }

  /** A socket of `userId` (who shares presence) subscribed to the circle on this gateway. */
  add(circleId: string, userId: string): void {
    let users = this.local.get(circleId);
    if (!users) this.local.set(circleId, (users = new Map()));
    const count = (users.get(userId) ?? 0) + 1;
    users.set(userId, count);
    if (count > 1) return;
    if (!this.heldElsewhere(circleId, userId)) this.announce(circleId, userId, true);
    this.publish({ gatewayId: this.gatewayId, kind: 'online', circleId, userIds: [userId] });
  }

  /** One of those sockets unsubscribed or closed (or stopped sharing). */
  remove(circleId: string, userId: string): void {
    const users = this.local.get(circleId);
    const count = users?.get(userId);
    if (!users || count === undefined) return;
    if (count > 1) {
      users.set(userId, count - 1);
      return;
    }
    users.delete(userId);
    if (users.size === 0) this.local.delete(circleId);
    if (!this.heldElsewhere(circleId, userId)) this.announce(circleId, userId, false);
    this.publish({ gatewayId: this.gatewayId, kind: 'offline', circleId, userIds: [userId] });
  }

  /** An event from the bus (this gateway's own come back too and are ignored). */
  onEvent(e: PresenceEvent): void {
    if (e.gatewayId === this.gatewayId) return;
    if (e.kind === 'ask') return this.refresh();
    if (!e.circleId) return;
    const circleId = e.circleId;
    for (const userId of e.userIds) {
      const was = this.isOnline(circleId, userId);
      if (e.kind === 'offline') this.dropLease(circleId, userId, e.gatewayId);
      else this.lease(circleId, userId, e.gatewayId);
      const is = this.isOnline(circleId, userId);
      if (was !== is) this.announce(circleId, userId, is);
    }
  }

  /** Tells the other gateways everyone this one holds (on a timer, when asked, after a reconnect). */
  refresh(): void {
    for (const [circleId, users] of this.local) {
      const ids = [...users.keys()];
      for (let i = 0; i < ids.length; i += PRESENCE_BATCH) {
        this.publish({ gatewayId: this.gatewayId, kind: 'refresh', circleId, userIds: ids.slice(i, i + PRESENCE_BATCH) });
      }
    }
  }

  /** Asks the other gateways for what they hold (at start, and when the bus comes back). */
  ask(): void {
    this.publish({ gatewayId: this.gatewayId, kind: 'ask', userIds: [] });
  }

  /** Ends the leases of gateways that stopped refreshing (run it every refresh): their users go offline, once. */
  expire(): void {
    const now = this.now();
    for (const [circleId, users] of this.remote) {
      for (const [userId, gateways] of users) {
        const was = this.isOnline(circleId, userId);
        for (const [gatewayId, until] of gateways) if (until <= now) gateways.delete(gatewayId);
        if (gateways.size === 0) users.delete(userId);
        if (was && !this.isOnline(circleId, userId)) this.announce(circleId, userId, false);
      }
      if (users.size === 0) this.remote.delete(circleId);
    }
  }

  // A lease counts until expire() ends it, so every change of state passes through a method
  // that announces it.
  private heldElsewhere(circleId: string, userId: string): boolean {
    return this.remote.get(circleId)?.has(userId) ?? false;
  }

  private lease(circleId: string, userId: string, gatewayId: string): void {
    let users = this.remote.get(circleId);
    if (!users) this.remote.set(circleId, (users = new Map()));
    let gateways = users.get(userId);
    if (!gateways) users.set(userId, (gateways = new Map()));
    gateways.set(gatewayId, this.now() + this.timing.leaseMs);
  }

  private dropLease(circleId: string, userId: string, gatewayId: string): void {
    const users = this.remote.get(circleId);
    const gateways = users?.get(userId);
    if (!users || !gateways) return;
    gateways.delete(gatewayId);
    if (gateways.size === 0) users.delete(userId);
    if (users.size === 0) this.remote.delete(circleId);
  }
}
