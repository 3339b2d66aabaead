import type { Redis } from 'ioredis';
import { DENY_LIST_GRACE_MS, type DenyEntry, type SessionDenyList } from './deny-list.js';
import { withTimeout } from './errors.js';

export interface RedisDenyListOptions {
  /** Prepended to every key (after the ioredis client's own keyPrefix). Default `hearth:authz:revoked:`. */
  readonly keyPrefix?: string;
  /**
   * A read or write slower than this fails instead of waiting while ioredis reconnects, so
   * callers can fall back (or fail closed) quickly. Default 500.
   */
  readonly timeoutMs?: number;
  /** How long a refill marks the cache complete (see LayeredSessionDenyList). Default 10 min. */
  readonly warmTtlMs?: number;
}

/**
 * The deny-list in Redis: one key per revoked session, expiring with the session's last token.
 * Used alone, Redis is the only copy: on a Redis error `isRevoked` throws and the interceptor
 * fails closed (Unavailable). With a Postgres record behind it, see LayeredSessionDenyList.
 * Redis must not evict these keys under memory pressure (`maxmemory-policy noeviction`):
 * an evicted entry would silently un-revoke a session.
 */
export class RedisSessionDenyList implements SessionDenyList {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #warmTtlMs: number;

  constructor(redis: Redis, opts: RedisDenyListOptions = {}) {
    this.#redis = redis;
    this.#prefix = opts.keyPrefix ?? 'hearth:authz:revoked:';
    this.#timeoutMs = opts.timeoutMs ?? 500;
    this.#warmTtlMs = opts.warmTtlMs ?? 600_000;
  }

  async revoke(sessionId: string, until: Date): Promise<void> {
    await this.fill([{ sessionId, until }]);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const n = await withTimeout(this.#redis.exists(this.#key(sessionId)), this.#timeoutMs, 'Redis');
    return n === 1;
  }

  /**
   * One round trip for the entry and the "cache is complete" marker. `warm` is false when the
   * marker is missing: Redis restarted or was flushed since the last refill (or it expired),
   * so a missing entry proves nothing.
   */
  async lookup(sessionId: string): Promise<{ revoked: boolean; warm: boolean }> {
    const [entry, marker] = await withTimeout(this.#redis.mget(this.#key(sessionId), this.#warmKey()), this.#timeoutMs, 'Redis');
    return { revoked: entry !== null, warm: marker !== null };
  }

  /**
   * Adds entries, never shortening one that is already there: SET NX creates with this expiry,
   * PEXPIREAT GT only ever moves an existing expiry later. Both run in one MULTI.
   */
  async fill(entries: Iterable<DenyEntry>): Promise<void> {
    const now = Date.now();
    const live = [...entries]
      .map(({ sessionId, until }) => ({ key: this.#key(sessionId), at: until.getTime() + DENY_LIST_GRACE_MS }))
      // An entry whose tokens have all expired denies nothing.
      .filter(({ at }) => at > now);
    if (live.length === 0) return;
    const tx = this.#redis.multi();
    for (const { key, at } of live) tx.set(key, '1', 'PXAT', at, 'NX').pexpireat(key, at, 'GT');
    const results = await withTimeout(tx.exec(), this.#timeoutMs, 'Redis');
    if (results === null) throw new Error('Redis transaction aborted');
    const failed = results.find(([err]) => err !== null);
    if (failed) throw failed[0] as Error;
  }

  /** Marks the cache complete for warmTtlMs: called after a refill from the record. */
  async markWarm(): Promise<void> {
    await withTimeout(this.#redis.set(this.#warmKey(), '1', 'PX', this.#warmTtlMs), this.#timeoutMs, 'Redis');
  }

  /** Forces the next reader to refill from the record. */
  async markCold(): Promise<void> {
    await withTimeout(this.#redis.del(this.#warmKey()), this.#timeoutMs, 'Redis');
  }

  #key(sessionId: string): string {
    return `${this.#prefix}${sessionId}`;
  }

  // Not a UUID, so it can never collide with a session entry.
  #warmKey(): string {
    return `${this.#prefix}_warm`;
  }
}
