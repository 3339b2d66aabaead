import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: string;
  /** Unique to this call, e.g. `hearth_t:3f9a0c1b2d4e:`; give it to ioredis as `keyPrefix`. */
  keyPrefix: string;
  /** Deletes every key under `keyPrefix` (and nothing else). */
  flush(): Promise<void>;
  /** Closes the helper's connection (does not flush). */
  close(): Promise<void>;
}

/**
 * A Redis for one test file: REDIS_URL or the machine's 127.0.0.1:6379. Isolation is by key
 * prefix, because the server and its 16 databases are shared by every concurrent test process.
 * Pub/sub channels are not keys: name them with `keyPrefix` too for isolation.
 */
export async function createTestRedis(): Promise<TestRedis> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const safe = new URL(url);
    if (safe.password) safe.password = '***';
    throw new Error(
      `Redis is not reachable at ${safe.toString()} (${(err as Error).message}). Start one with ` +
        '`redis-server --daemonize yes` (Debian: apt-get install redis-server), or set REDIS_URL.',
    );
  }
  const keyPrefix = `hearth_t:${randomBytes(6).toString('hex')}:`;
  return {
    url,
    keyPrefix,
    async flush() {
      // SCAN, not KEYS: never block a server that other test processes are using.
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
