import type { Logger } from '@hearth/telemetry';
import CircuitBreaker from 'opossum';
import { Redis } from 'ioredis';
import type { RedisAccess } from './contract.js';

/** Thrown instead of calling Redis while it is known to be down. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

export interface GuardedRedis extends RedisAccess {
  close(): Promise<void>;
}

export interface RedisOptions {
  /** A command slower than this counts as a failure (and is abandoned by the caller). Default 250. */
  readonly timeoutMs?: number;
  /** How long the breaker stays open before one call may try again. Default 2000. */
  readonly resetMs?: number;
}

/**
 * Redis holds only what may be lost, so when it is away every call must cost almost nothing and
 * fall back (DESIGN). Three things make it so:
 * - no offline queue: while disconnected, commands fail at once instead of waiting to be sent;
 * - a circuit breaker (opossum) around every call: after a few failures or timeouts (a hung
 *   server does not fail, it goes quiet) calls are refused without touching Redis;
 * - the connection's own events: the breaker opens the moment the connection drops and closes
 *   the moment it is ready again, so a recovered Redis is used at once, not after a timer.
 */
export function connectRedis(url: string, logger: Logger, opts: RedisOptions = {}): GuardedRedis {
  const client = new Redis(url, {
    connectTimeout: 2_000,
    // Commands issued in the same tick share one write (limits, publishes and deny-list checks
    // of concurrent requests): fewer syscalls under load, no added wait when idle.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  return guardRedis(client, logger, opts);
}

/** The breaker around an existing connection (tests pass their own, with a key prefix). */
export function guardRedis(client: Redis, logger: Logger, opts: RedisOptions = {}): GuardedRedis {
  const log = logger.child({ subsystem: 'redis' });
  const breaker = new CircuitBreaker(async (op: (r: Redis) => Promise<unknown>) => op(client), {
    timeout: opts.timeoutMs ?? 250,
    resetTimeout: opts.resetMs ?? 2_000,
    errorThresholdPercentage: 50,
    volumeThreshold: 3,
    rollingCountTimeout: 10_000,
    name: 'redis',
  });
  breaker.on('open', () => log.warn({}, 'redis circuit open: calls skip Redis and fall back'));
  breaker.on('close', () => log.info({}, 'redis circuit closed: using Redis again'));
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    // ioredis emits an error per reconnect attempt; log at most one every 30 s.
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    log.warn({ err: { message: err.message } }, 'redis connection error');
  });
  client.on('close', () => {
    if (!breaker.opened) breaker.open();
  });
  client.on('ready', () => {
    if (!breaker.closed) breaker.close();
  });
  return {
    client,
    get available() {
      return breaker.closed || breaker.halfOpen;
    },
    async run<T>(op: (r: Redis) => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(op)) as T;
      } catch (err) {
        // Open (refused without a call) or timed out: either way Redis cannot answer now.
        if (CircuitBreaker.isOurError(err as Error)) throw new RedisUnavailableError('Redis is unavailable', { cause: err });
        throw err;
      }
    },
    async close() {
      breaker.shutdown();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
