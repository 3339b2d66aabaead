import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** How one counter is kept: its name (part of every key), its limit and its window. */
export interface CounterSpec {
  readonly name: string;
  readonly points: number;
  readonly durationSec: number;
}

/** A counter store: `counter(spec)` is called once per counter when the limits are created. */
export interface CounterBackend {
  counter(spec: CounterSpec): RateLimiterAbstract;
  /** Resolves when the store can take writes (the Postgres table exists); never rejects. */
  ready(): Promise<void>;
}

export function memoryBackend(keyPrefix: string): CounterBackend {
  return {
    counter: (spec) => new RateLimiterMemory({ keyPrefix: keyPrefix + spec.name, points: spec.points, duration: spec.durationSec }),
    ready: () => Promise.resolve(),
  };
}

/**
 * Redis counters; while Redis is not connected every call goes to a per-process memory counter
 * at once (`rejectIfRedisNotReady`), so an outage weakens the limits to one replica's view
 * instead of failing or stalling every login behind ioredis's offline queue.
 */
export function redisBackend(redis: Redis, keyPrefix: string): CounterBackend {
  const insurance = memoryBackend(keyPrefix);
  return {
    counter: (spec) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: keyPrefix + spec.name,
        points: spec.points,
        duration: spec.durationSec,
        rejectIfRedisNotReady: true,
        insuranceLimiter: insurance.counter(spec),
      }),
    ready: () => Promise.resolve(),
  };
}

const TABLE = 'rate_limits';
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Postgres counters in `<schema>.rate_limits`, one row per key, shared by every counter (keys
 * carry the counter's name). The table layout is the library's (documented for
 * `tableCreated: true`); it is created here if missing because the library would otherwise
 * create it in a constructor promise nobody can await or retry. Failed queries fall back to
 * per-process memory counters, like Redis.
 */
export function postgresBackend(pool: Pool, schema: string, keyPrefix: string): CounterBackend {
  if (!IDENTIFIER.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  const insurance = memoryBackend(keyPrefix);
  let created: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    created ??= createTable(pool, schema).catch(() => {
      // Postgres unreachable or not yet migrated: this call uses the memory fallback and the
      // next one tries again.
      created = undefined;
    });
    return created;
  };
  let first = true;
  return {
    counter: (spec) => {
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
        insuranceLimiter: insurance.counter(spec),
      });
      first = false;
      return limiter;
    },
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
