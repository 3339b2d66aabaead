import { MACHINE_POSTGRES_URL } from './postgres.js';
import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * Where PostgreSQL and Redis come from for a test run, decided once before any test file runs
 * (vitest's global setup), in this order: DATABASE_URL / REDIS_URL if set; the machine's own
 * servers (127.0.0.1:5432 and :6379, as every Hearth build machine has); containers started
 * with testcontainers where a Docker engine answers (a laptop without local servers, a CI
 * runner); else, for Postgres only, the embedded server (see ensurePostgres). The choice is
 * written to DATABASE_URL and REDIS_URL, which the test processes inherit.
 */
export async function provideTestServices(log: (line: string) => void = () => undefined): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  if (!process.env.DATABASE_URL && !(await answersPostgres(MACHINE_POSTGRES_URL))) {
    const started = await inContainer('postgres:15', 5432, { POSTGRES_HOST_AUTH_METHOD: 'trust' }, /database system is ready to accept connections/, 2);
    if (started) {
      process.env.DATABASE_URL = `postgres://postgres@${started.host}:${started.port}/postgres`;
      stops.push(started.stop);
      log(`PostgreSQL 15 in a container at ${started.host}:${started.port}`);
    }
  }
  if (!process.env.REDIS_URL && !(await answersRedis('redis://127.0.0.1:6379'))) {
    const started = await inContainer('redis:7', 6379, {}, /Ready to accept connections/, 1);
    if (started) {
      process.env.REDIS_URL = `redis://${started.host}:${started.port}`;
      stops.push(started.stop);
      log(`Redis 7 in a container at ${started.host}:${started.port}`);
    }
  }
  return async () => {
    for (const stop of stops) await stop().catch(() => undefined);
  };
}

/** Starts `image` with testcontainers when a container runtime answers; undefined otherwise. */
async function inContainer(
  image: string,
  port: number,
  env: Record<string, string>,
  ready: RegExp,
  times: number,
): Promise<{ host: string; port: number; stop: () => Promise<void> } | undefined> {
  // Loaded only here: the library and its Docker client are not needed where servers run locally.
  const tc = await import('testcontainers');
  try {
    await tc.getContainerRuntimeClient();
  } catch {
    return undefined;
  }
  const container = await new tc.GenericContainer(image)
    .withEnvironment(env)
    .withExposedPorts(port)
    .withWaitStrategy(tc.Wait.forLogMessage(ready, times))
    .start();
  return { host: container.getHost(), port: container.getMappedPort(port), stop: async () => void (await container.stop()) };
}

async function answersPostgres(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function answersRedis(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
