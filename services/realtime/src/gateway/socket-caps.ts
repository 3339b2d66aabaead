import { addressKey } from '@hearth/platform';

export interface SocketCapsOptions {
  /** Authenticated sockets one user may hold; one more displaces the user's oldest. */
  readonly maxConnectionsPerUser: number;
  /** Sockets not yet welcomed per client address (IPv6: per /64). */
  readonly maxUnauthenticatedPerAddress: number;
  /** Sockets not yet welcomed in the whole process. */
  readonly maxUnauthenticated: number;
}

/** A welcomed socket that the cap may have to close to make room for a newer one. */
export interface Displaceable {
  displace(): void;
}

/**
 * One socket's place under the caps, from upgrade to close. It starts counted as
 * unauthenticated under its address; `authenticate` moves it under its user.
 */
export interface SocketLease {
  /**
   * Counts the socket as one of `userId`'s and returns the user's oldest sockets that no longer
   * fit, already uncounted; the caller closes them. Oldest means welcomed first.
   */
  authenticate(userId: string, socket: Displaceable): readonly Displaceable[];
  /** Uncounts the socket; idempotent, called whenever the socket ends. */
  release(): void;
}

export type Admission =
  | { readonly admitted: true; readonly lease: SocketLease }
  | { readonly admitted: false; readonly scope: 'address' | 'process'; readonly reason: string };

/**
 * How many sockets may be held, counted in this process. Sockets that have not been welcomed
 * (no Hello yet, or Hello still being authenticated) are capped per client address and in
 * total, so sockets that never authenticate cannot pile up until their Hello timeout. Welcomed
 * sockets are capped per user: the newest socket wins and the oldest is displaced, because the
 * newest is the one the person is looking at, while the oldest is the likeliest to be dead
 * (a phone that changed networks, found only after two missed heartbeats) or forgotten; and a
 * stolen token cannot lock its owner out by filling the slots first.
 *
 * Multi-replica deployments get these caps per replica: a user may hold up to
 * `maxConnectionsPerUser` sockets on each gateway replica, and an address that many unwelcomed
 * sockets on each. A cluster-wide cap would need a shared registry (Redis) and a way to close a
 * socket held by another replica, which costs more than the bound is worth while replicas are few.
 */
export class SocketCaps {
  private readonly unauthenticatedByAddress = new Map<string, number>();
  private unauthenticated = 0;
  /** Per user, their welcomed sockets in the order they were welcomed (Set keeps insertion order). */
  private readonly byUser = new Map<string, Set<Displaceable>>();

  constructor(private readonly opts: SocketCapsOptions) {}

  /** Counts a new socket from `ip` as unauthenticated, or says which cap it would break. */
  admit(ip: string): Admission {
    const key = addressKey(ip);
    const fromAddress = this.unauthenticatedByAddress.get(key) ?? 0;
    if (fromAddress >= this.opts.maxUnauthenticatedPerAddress) {
      return { admitted: false, scope: 'address', reason: 'too many sockets from this address are waiting for Welcome' };
    }
    if (this.unauthenticated >= this.opts.maxUnauthenticated) {
      return { admitted: false, scope: 'process', reason: 'the gateway has too many sockets waiting for Welcome' };
    }
    this.unauthenticatedByAddress.set(key, fromAddress + 1);
    this.unauthenticated++;
    return { admitted: true, lease: this.lease(key) };
  }

  private lease(address: string): SocketLease {
    return new Lease(this, address);
  }

  /** A socket from `address` stops waiting for Welcome. */
  leaveUnauthenticated(address: string): void {
    const left = (this.unauthenticatedByAddress.get(address) ?? 1) - 1;
    if (left > 0) this.unauthenticatedByAddress.set(address, left);
    else this.unauthenticatedByAddress.delete(address);
    this.unauthenticated--;
  }

  /** Counts `socket` as one of `userId`'s; returns (uncounted) the oldest ones that no longer fit. */
  joinUser(userId: string, socket: Displaceable): Displaceable[] {
    let sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, (sockets = new Set()));
    const displaced: Displaceable[] = [];
    for (const oldest of sockets) {
      if (sockets.size < this.opts.maxConnectionsPerUser) break;
      sockets.delete(oldest);
      displaced.push(oldest);
    }
    sockets.add(socket);
    return displaced;
  }

  leaveUser(userId: string, socket: Displaceable): void {
    const sockets = this.byUser.get(userId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.byUser.delete(userId);
  }

  /** Counts for tests and diagnostics. */
  counts(): { unauthenticated: number; addresses: number; users: number; authenticated: number } {
    let authenticated = 0;
    for (const s of this.byUser.values()) authenticated += s.size;
    return { unauthenticated: this.unauthenticated, addresses: this.unauthenticatedByAddress.size, users: this.byUser.size, authenticated };
  }
}

/** One socket's place under the caps (a small object: every open socket holds one). */
class Lease implements SocketLease {
  private state: 'unauthenticated' | 'authenticated' | 'released' = 'unauthenticated';
  private userId = '';
  private socket: Displaceable | undefined;

  constructor(
    private readonly caps: SocketCaps,
    private readonly address: string,
  ) {}

  authenticate(userId: string, socket: Displaceable): readonly Displaceable[] {
    if (this.state !== 'unauthenticated') throw new Error(`a ${this.state} socket cannot authenticate`);
    this.caps.leaveUnauthenticated(this.address);
    this.state = 'authenticated';
    this.userId = userId;
    this.socket = socket;
    return this.caps.joinUser(userId, socket);
  }

  release(): void {
    if (this.state === 'unauthenticated') this.caps.leaveUnauthenticated(this.address);
    if (this.state === 'authenticated' && this.socket) this.caps.leaveUser(this.userId, this.socket);
    this.state = 'released';
    this.socket = undefined;
  }
}
