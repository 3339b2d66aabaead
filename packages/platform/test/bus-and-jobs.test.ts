import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, createTestRedis } from '@hearth/testkit';
import { createLogger } from '@hearth/telemetry';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type EventBus, createJobQueue, enqueueJob, postgresBus, redisBus } from '../src/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** Resolves with the first `count` payloads published on `topic`. */
function collect(bus: EventBus, topic: string, count: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  return new Promise((resolve) => {
    const off = bus.subscribe(topic, (p) => {
      seen.push(p);
      if (seen.length === count) {
        off();
        resolve(seen);
      }
    });
  });
}

async function settle(ms = 150) {
  await new Promise((r) => setTimeout(r, ms));
}

describe('event bus', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redisHelper: Awaited<ReturnType<typeof createTestRedis>>;
  before(async () => {
    db = await createTestDatabase({ prefix: 'bus' });
    redisHelper = await createTestRedis();
  });
  after(async () => {
    await redisHelper.close();
    await db.drop();
  });

  for (const kind of ['redis', 'postgres'] as const) {
    it(`delivers events between two processes' buses over ${kind}, per topic`, async () => {
      const redisA = kind === 'redis' ? new Redis(redisHelper.url) : undefined;
      const redisB = kind === 'redis' ? new Redis(redisHelper.url) : undefined;
      const make = (r: Redis | undefined) => (r ? redisBus(r, logger, redisHelper.keyPrefix) : postgresBus(db.url, logger));
      const a = make(redisA);
      const b = make(redisB);
      try {
        const got = collect(b, 'circle.membership', 2);
        const other = collect(b, 'user.blocks', 1);
        await settle(); // subscriptions are asynchronous
        await a.publish('circle.membership', { circleId: 'c1', userId: 'u1' });
        await a.publish('user.blocks', { userId: 'u1', otherUserId: 'u2', blocked: true });
        await a.publish('circle.membership', { circleId: 'c1', userId: 'u2' });
        assert.deepEqual(await got, [{ circleId: 'c1', userId: 'u1' }, { circleId: 'c1', userId: 'u2' }]);
        assert.deepEqual(await other, [{ userId: 'u1', otherUserId: 'u2', blocked: true }]);

        // A bus's own subscribers get its events at once (before publish returns), and once.
        const own: unknown[] = [];
        const off = a.subscribe('user.account', (p) => own.push(p));
        await settle();
        const publishing = a.publish('user.account', { userId: 'u3' });
        assert.deepEqual(own, [{ userId: 'u3' }]);
        await publishing;
        await settle(300);
        assert.deepEqual(own, [{ userId: 'u3' }]);
        off();
      } finally {
        await a.close();
        await b.close();
        redisA?.disconnect();
        redisB?.disconnect();
      }
    });
  }

  it('publishing never throws when the transport is gone', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    const bus = redisBus(redis, logger);
    await bus.publish('circle.membership', { circleId: 'c' });
    await bus.close();
    const pgBus = postgresBus('postgres://postgres@127.0.0.1:1/none', logger);
    await pgBus.publish('circle.membership', { circleId: 'c' });
    await pgBus.close();
  });
});

describe('job queue', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let kysely: Kysely<unknown>;
  before(async () => {
    db = await createTestDatabase({ prefix: 'jobs' });
    kysely = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }) });
  });
  after(async () => {
    await kysely.destroy();
    await db.drop();
  });

  it('runs a job committed with a change, never one rolled back, and retries a failing one', async () => {
    const done: string[] = [];
    let failuresLeft = 1;
    const finished = new Promise<void>((resolve) => {
      const queue = createJobQueue({
        databaseUrl: db.url,
        schema: 'test_jobs',
        logger,
        pollIntervalMs: 100,
        tasks: {
          async 'note.write'(payload) {
            const { id } = payload as { id: string };
            if (id === 'flaky' && failuresLeft-- > 0) throw new Error('first attempt fails');
            done.push(id);
            if (done.includes('committed') && done.includes('flaky')) resolve();
          },
        },
      });
      void (async () => {
        await queue.migrate();
        await sql`create table notes (id text primary key)`.execute(kysely);
        await kysely.transaction().execute(async (trx) => {
          await sql`insert into notes values ('committed')`.execute(trx);
          await enqueueJob(trx, 'test_jobs', 'note.write', { id: 'committed' });
        });
        await kysely
          .transaction()
          .execute(async (trx) => {
            await enqueueJob(trx, 'test_jobs', 'note.write', { id: 'rolled-back' });
            throw new Error('abort');
          })
          .catch(() => undefined);
        // graphile-worker retries after exp(attempts) seconds: the second attempt comes ~2.7 s later.
        await enqueueJob(kysely, 'test_jobs', 'note.write', { id: 'flaky' });
        await queue.start();
        await finished;
        await queue.stop();
      })();
    });
    await finished;
    await settle(300);
    assert.deepEqual([...done].sort(), ['committed', 'flaky']);
    assert.ok(!done.includes('rolled-back'));
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(enqueueJob(kysely, 'x; drop table', 't', {}), /invalid job queue schema/);
  });
});
