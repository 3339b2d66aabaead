import type { Database } from '@hearth/db';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { DenyEntry, SessionDenyList } from './deny-list.js';
import type { AuthzLogger } from './errors.js';
import { PostgresSessionDenyList } from './postgres-deny-list.js';
import { RedisSessionDenyList } from './redis-deny-list.js';

/** The durable side of a layered deny-list (PostgresSessionDenyList). */
export interface DenyListRecord extends SessionDenyList {
  activeEntries(): Promise<DenyEntry[]>;
}

export interface LayeredDenyListOptions {
  readonly cache: RedisSessionDenyList;
  readonly record: DenyListRecord;
  readonly logger?: AuthzLogger;
}

/**
 * Redis in front of Postgres: the failure policy of the deny-list.
 *
 * - Writes go to Postgres first (the record; a failure there fails the revocation), then Redis.
 * - Reads ask Redis, one round trip per call. Postgres is read only when Redis cannot answer:
 *   - Redis errors or is slow: Postgres answers. If Postgres fails too, the read throws and the
 *     interceptor fails closed (Unavailable). Failing open would let a revoked session's tokens
 *     through for up to their 15 minutes, exactly when revocation matters (a stolen session);
 *     failing closed on a Redis blip alone would lock everyone out. With the record there, a
 *     blip costs one Postgres query per call instead of either.
 *   - Redis answers but lost its data (restart without persistence, flush): Redis is a cache
 *     (DESIGN: what may be lost or rebuilt), so a "warm" marker says the cache is complete.
 *     Without it, Postgres answers and one refill per process copies the live entries back.
 *     The marker expires (warmTtlMs), so any drift is repaired within that time.
 */
export class LayeredSessionDenyList implements SessionDenyList {
  readonly #cache: RedisSessionDenyList;
  readonly #record: DenyListRecord;
  readonly #logger: AuthzLogger | undefined;
  #refilling: Promise<void> | undefined;

  constructor(opts: LayeredDenyListOptions) {
    this.#cache = opts.cache;
    this.#record = opts.record;
    this.#logger = opts.logger;
  }

  async revoke(sessionId: string, until: Date): Promise<void> {
    await this.#record.revoke(sessionId, until);
    try {
      await this.#cache.revoke(sessionId, until);
    } catch (err) {
      // The revocation is durable. If Redis is down, readers fall back to Postgres and see it;
      // if only this write failed, dropping the marker makes the next reader refill.
      this.#logger?.warn({ err, sessionId }, 'revocation not cached in Redis; Postgres has it');
      await this.#cache.markCold().catch(() => undefined);
    }
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    let hit: { revoked: boolean; warm: boolean };
    try {
      hit = await this.#cache.lookup(sessionId);
    } catch (err) {
      this.#logger?.warn({ err }, 'Redis deny-list unavailable; reading Postgres');
      return this.#record.isRevoked(sessionId);
    }
    if (hit.revoked) return true;
    if (hit.warm) return false;
    const [revoked] = await Promise.all([this.#record.isRevoked(sessionId), this.#refill()]);
    return revoked;
  }

  /** One refill at a time per process; a failed refill is retried by the next cold read. */
  #refill(): Promise<void> {
    this.#refilling ??= (async () => {
      try {
        const entries = await this.#record.activeEntries();
        await this.#cache.fill(entries);
        await this.#cache.markWarm();
      } catch (err) {
        this.#logger?.warn({ err }, 'refilling the Redis deny-list from Postgres failed');
      } finally {
        this.#refilling = undefined;
      }
    })();
    return this.#refilling;
  }
}

/**
 * The deny-list a service should use: Redis in front of Postgres when Redis is configured,
 * Postgres alone when it is not. The `authz` schema must be migrated (migrateAuthz).
 */
export function createSessionDenyList<DB>(deps: {
  db: Database<DB> | Kysely<DB>;
  redis?: Redis | undefined;
  logger?: AuthzLogger;
}): SessionDenyList {
  const logger = deps.logger ? { logger: deps.logger } : {};
  const record = new PostgresSessionDenyList(deps.db, logger);
  if (!deps.redis) return record;
  return new LayeredSessionDenyList({ cache: new RedisSessionDenyList(deps.redis), record, ...logger });
}
