import type { EventBus } from '@hearth/db';
import { DENY_LIST_GRACE_MS, type DenyEntry, type SessionDenyList } from './deny-list.js';
import type { AuthzLogger } from './errors.js';
import type { PostgresSessionDenyList } from './postgres-deny-list.js';
import { sessionRevokedTopic } from './topics.js';

export interface ReplicatedDenyListOptions {
  readonly record: PostgresSessionDenyList;
  /** Carries revocations between processes at once; absent in one-shot tools. */
  readonly bus?: EventBus | undefined;
  readonly logger?: AuthzLogger;
  /** How often the copy asks Postgres for what it may have missed. Default 2 s. */
  readonly syncIntervalMs?: number;
  /**
   * When the copy could not be brought up to date for this long, reads fail (the interceptor
   * answers Unavailable) rather than trust a copy that may miss a revocation. Default 60 s.
   */
  readonly maxStalenessMs?: number;
  readonly now?: () => number;
}

/** Re-asks overlap by this much: a row's revoke time is taken a moment before it commits. */
const SYNC_OVERLAP_MS = 10_000;

/**
 * The session deny-list every process checks on every call, answered from memory.
 *
 * Entries live only until the last access token of their session expires (minutes), so the
 * whole list is small enough for every process to hold a copy. The record is Postgres
 * (`authz.revoked_sessions`); `revoke` writes it first (a failure fails the revocation), then
 * publishes on the bus, which every process hears within milliseconds (Redis pub/sub, or
 * LISTEN/NOTIFY). The bus may lose an event, so each copy also asks Postgres every
 * `syncIntervalMs` for entries written since its last ask: a lost event delays a revocation by
 * at most that interval. A copy that cannot sync for `maxStalenessMs` fails closed.
 */
export class ReplicatedSessionDenyList implements SessionDenyList {
  readonly #record: PostgresSessionDenyList;
  readonly #bus: EventBus | undefined;
  readonly #logger: AuthzLogger | undefined;
  readonly #interval: number;
  readonly #maxStaleness: number;
  readonly #now: () => number;
  /** Session id -> the time (ms) its entry stops denying (until + grace). */
  readonly #entries = new Map<string, number>();
  #syncedAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #since: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #syncing: Promise<void> | undefined;

  constructor(opts: ReplicatedDenyListOptions) {
    this.#record = opts.record;
    this.#bus = opts.bus;
    this.#logger = opts.logger;
    this.#interval = opts.syncIntervalMs ?? 2_000;
    this.#maxStaleness = opts.maxStalenessMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the copy, listens to the bus and starts syncing. Rejects if Postgres cannot be read. */
  async start(): Promise<void> {
    this.#unsubscribe ??= this.#bus?.subscribe(sessionRevokedTopic, (e) => this.#apply({ sessionId: e.sessionId, until: new Date(e.until) }));
    await this.sync();
    if (!this.#timer) {
      this.#timer = setInterval(() => {
        this.sync().catch((err: unknown) => this.#logger?.warn({ err }, 'deny-list sync from Postgres failed; keeping the copy'));
      }, this.#interval);
      this.#timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Brings the copy up to date with Postgres (one query; concurrent calls share it). */
  sync(): Promise<void> {
    this.#syncing ??= (async () => {
      try {
        const since = this.#since ? new Date(this.#since.getTime() - SYNC_OVERLAP_MS) : new Date(0);
        const { entries, now } = await this.#record.revokedSince(since);
        for (const e of entries) this.#apply(e);
        this.#since = now;
        this.#syncedAt = this.#now();
        this.#evictExpired();
      } catch (err) {
        this.#failedAt = this.#now();
        throw err;
      } finally {
        this.#syncing = undefined;
      }
    })();
    return this.#syncing;
  }

  async revoke(sessionId: string, until: Date): Promise<void> {
    await this.#record.revoke(sessionId, until);
    this.#apply({ sessionId, until });
    await this.#bus?.publish(sessionRevokedTopic, { sessionId, until: until.toISOString() });
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const now = this.#now();
    if (now - this.#syncedAt > this.#maxStaleness) {
      // Never synced (not started) or Postgres unreachable for long: one more try, then refuse.
      // While Postgres is down, refuse at once rather than wait for a connection on every call.
      if (now - this.#failedAt < 1_000) throw new Error('the session deny-list cannot be brought up to date');
      await this.sync();
    }
    const end = this.#entries.get(sessionId);
    return end !== undefined && end > now;
  }

  #apply(e: DenyEntry): void {
    const end = e.until.getTime() + DENY_LIST_GRACE_MS;
    if (end > (this.#entries.get(e.sessionId) ?? 0)) this.#entries.set(e.sessionId, end);
  }

  #evictExpired(): void {
    const now = this.#now();
    for (const [id, end] of this.#entries) if (end <= now) this.#entries.delete(id);
  }
}
