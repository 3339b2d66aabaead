import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { RLWrapperTimeouts, RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** How one counter is kept: its name (part of every key), its limit and its window. */
export interface CounterSpec {
  readonly name: string;
  readonly points: number;
  readonly durationSec: number;
}

/**
 * A counter store. `store(spec)` and `local(spec)` are called once per counter when the limits
 * are created.
 */
export interface CounterBackend {
  /**
   * The shared store's counter, as it is: a store error rejects and a stalled store never
   * answers. Wrap it with `resilient` unless the caller decides itself where a count lives.
   */
  store(spec: CounterSpec): RateLimiterAbstract;
  /**
   * The same counter in this process's memory: where counts go while the store is away. A
   * memory-only backend (memoryBackend) gives the same function as `store`.
   */
  local(spec: CounterSpec): RateLimiterAbstract;
  /** Resolves when the store can take writes (the Postgres table exists), or gives up; never rejects. */
  ready(): Promise<void>;
}

/**
 * How long one store call may take before this process counts in memory instead. A store
 * answers in about a millisecond; one that takes a second is stalled (a half-open connection, a
 * pool waiting for a server that is gone), and a login must not wait on it.
 */
export const STORE_TIMEOUT_MS = 1_000;

/**
 * The store's counter, answered from this process's memory when the store fails or takes longer
 * than `timeoutMs`: an outage weakens the limits to one replica's view instead of failing or
 * stalling sign-in. Only this wrapper falls back (the store counter has no insurance of its
 * own), so a call that times out and then fails is counted once, not twice.
 */
export function resilient(
  backend: CounterBackend,
  spec: CounterSpec,
  timeoutMs = STORE_TIMEOUT_MS,
  local: RateLimiterAbstract = backend.local(spec),
): RateLimiterAbstract {
  // A memory-only backend has nothing to fall back from.
  if (backend.store === backend.local) return local;
  return new RLWrapperTimeouts({ limiter: backend.store(spec), timeoutMs, insuranceLimiter: local });
}

/**
 * `resilient`, and while the store is known to be down (`available()` false: the Redis breaker
 * is open) the same memory counter it falls back to, at once, without trying the store: for
 * limits on a hot path, where even the fallback's timeout is too long to wait.
 */
export function whileAvailable(backend: CounterBackend, spec: CounterSpec, available: () => boolean, timeoutMs = STORE_TIMEOUT_MS): () => RateLimiterAbstract {
  const local = backend.local(spec);
  const store = resilient(backend, spec, timeoutMs, local);
  return () => (available() ? store : local);
}

export function memoryBackend(keyPrefix: string): CounterBackend {
  const local = (spec: CounterSpec) => new RateLimiterMemory({ keyPrefix: keyPrefix + spec.name, points: spec.points, duration: spec.durationSec });
  return { store: local, local, ready: () => Promise.resolve() };
}

/**
 * Redis counters. While Redis is not connected every call fails at once
 * (`rejectIfRedisNotReady`) instead of queueing behind ioredis's offline queue.
 */
export function redisBackend(redis: Redis, keyPrefix: string): CounterBackend {
  return {
    store: (spec) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: keyPrefix + spec.name,
        points: spec.points,
        duration: spec.durationSec,
        rejectIfRedisNotReady: true,
      }),
    local: memoryBackend(keyPrefix).local,
    ready: () => Promise.resolve(),
  };
}

const TABLE = 'rate_limits';
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Postgres counters in `<schema>.rate_limits`, one row per key, shared by every counter (keys
 * carry the counter's name). The table layout is the library's (documented for
 * `tableCreated: true`); it is created here if missing because the library would otherwise
 * create it in a constructor promise nobody can await or retry.
 */
export function postgresBackend(pool: Pool, schema: string, keyPrefix: string, timeoutMs = STORE_TIMEOUT_MS): CounterBackend {
  if (!IDENTIFIER.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  let created: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    created ??= createTable(pool, schema).catch(() => {
      // Postgres unreachable or not yet migrated: this call uses the memory fallback and the
      // next one tries again.
      created = undefined;
    });
    // A server that accepts connections but never answers must not hold every login here.
    return waitAtMost(created, timeoutMs);
  };
  let first = true;
  return {
    store: (spec) => {
      const limiter = new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: TABLE,
        schemaName: schema,
        tableCreated: true,
        // One sweeper per table is enough: it deletes every expired row, whatever its counter.
        clearExpiredByTimeout: first,
        keyPrefix: keyPrefix + spec.name,
        points: spec.points,
        duration: spec.durationSec,
      });
      first = false;
      return limiter;
    },
    local: memoryBackend(keyPrefix).local,
    ready,
  };
}

async function createTable(pool: Pool, schema: string): Promise<void> {
  try {
    await pool.query(
      `create table if not exists "${schema}"."${TABLE}" (key varchar(255) primary key, points integer not null default 0, expire bigint)`,
    );
  } catch (err) {
    // Two replicas creating the table at once: the loser sees the type's unique index violated.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
}

/** Resolves with `p`'s value, or with undefined once `ms` have passed or `p` rejects. */
export function waitAtMost<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  return Promise.race([p.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
