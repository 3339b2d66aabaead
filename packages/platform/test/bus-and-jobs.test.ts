import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type EventBus, JobQueueRef, type Topic, defineJob, defineTopic } from '@hearth/db';
import { createTestDatabase, createTestRedis, freePort, startTcpProxy } from '@hearth/testkit';
import { createLogger } from '@hearth/telemetry';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PermanentJobError, createJobQueue, guardRedis, handle, postgresBus, redisBus } from '../src/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });

const membership = defineTopic('test.membership', z.object({ circleId: z.string(), userId: z.string() }));
const blocks = defineTopic('test.blocks', z.object({ userId: z.string(), otherUserId: z.string(), blocked: z.boolean() }));
const account = defineTopic('test.account', z.object({ userId: z.string() }));

/** Resolves with the first `count` payloads published on `topic`. */
function collect<T>(bus: EventBus, topic: Topic<T>, count: number): Promise<T[]> {
  const seen: T[] = [];
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
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'bus' });
    redisHelper = await createTestRedis();
  });
  afterAll(async () => {
    await redisHelper.close();
    await db.drop();
  });

  for (const kind of ['redis', 'postgres'] as const) {
    it(`delivers typed events between two processes' buses over ${kind}, per topic, and drops what does not fit`, async () => {
      const redisA = kind === 'redis' ? guardRedis(new Redis(redisHelper.url), logger) : undefined;
      const redisB = kind === 'redis' ? guardRedis(new Redis(redisHelper.url), logger) : undefined;
      const make = (r: typeof redisA) => (r ? redisBus(r, logger, redisHelper.keyPrefix) : postgresBus(db.url, logger));
      const a = make(redisA);
      const b = make(redisB);
      try {
        const got = collect(b, membership, 2);
        const other = collect(b, blocks, 1);
        await settle(); // subscriptions are asynchronous
        await a.publish(membership, { circleId: 'c1', userId: 'u1' });
        // A payload its topic's type denies (another version, a bug) never reaches a handler.
        await a.publish(membership as unknown as Topic<unknown>, { circleId: 42 });
        await a.publish(blocks, { userId: 'u1', otherUserId: 'u2', blocked: true });
        await a.publish(membership, { circleId: 'c1', userId: 'u2' });
        assert.deepEqual(await got, [
          { circleId: 'c1', userId: 'u1' },
          { circleId: 'c1', userId: 'u2' },
        ]);
        assert.deepEqual(await other, [{ userId: 'u1', otherUserId: 'u2', blocked: true }]);

        // A bus's own subscribers get its events at once (before publish returns), and once.
        const own: unknown[] = [];
        const off = a.subscribe(account, (p) => own.push(p));
        await settle();
        const publishing = a.publish(account, { userId: 'u3' });
        assert.deepEqual(own, [{ userId: 'u3' }]);
        await publishing;
        await settle(300);
        assert.deepEqual(own, [{ userId: 'u3' }]);
        off();
      } finally {
        await a.close();
        await b.close();
        await redisA?.close();
        await redisB?.close();
      }
    });
  }

  for (const kind of ['redis', 'postgres'] as const) {
    it(`says when its listening connection over ${kind} came back, and delivers again after it`, async () => {
      // Named, so only this test's listening connection is cut (other files share the servers).
      const name = `bus-reconnect-${randomUUID().slice(0, 8)}`;
      const redis = kind === 'redis' ? guardRedis(new Redis(redisHelper.url, { connectionName: name }), logger) : undefined;
      const admin = new Redis(redisHelper.url);
      const bus = redis ? redisBus(redis, logger, redisHelper.keyPrefix) : postgresBus(db.url, logger);
      const other = redis ? redisBus(guardRedis(new Redis(redisHelper.url), logger), logger, redisHelper.keyPrefix) : postgresBus(db.url, logger);
      let reconnects = 0;
      const off = bus.onReconnect(() => reconnects++);
      try {
        const got: unknown[] = [];
        bus.subscribe(membership, (p) => got.push(p));
        await settle();
        assert.equal(reconnects, 0, 'the first connection is not a reconnection');
        // Cut the listening connection from the server's side, as a failover or restart would.
        if (kind === 'redis') {
          const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
          const id = list.split('\n').find((line) => line.includes(`name=${name}`))?.match(/\bid=(\d+)/)?.[1];
          assert.ok(id, 'the bus listens on a connection of its own');
          await admin.call('CLIENT', 'KILL', 'ID', id);
        } else {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          await c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hearth-bus-listen' and datname = current_database()");
          await c.end();
        }
        const deadline = Date.now() + 10_000;
        while (reconnects === 0 && Date.now() < deadline) await settle(50);
        assert.equal(reconnects, 1, 'told once it was back');
        await settle();
        await other.publish(membership, { circleId: 'c9', userId: 'u9' });
        const until = Date.now() + 5_000;
        while (got.length === 0 && Date.now() < until) await settle(20);
        assert.deepEqual(got, [{ circleId: 'c9', userId: 'u9' }], 'listening again');
      } finally {
        off();
        await bus.close();
        await other.close();
        await redis?.close();
        admin.disconnect();
      }
    });
  }

  it('publishing never throws, and costs almost nothing, when the transport is gone', async () => {
    const dead = guardRedis(new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, maxRetriesPerRequest: 0 }), logger);
    dead.client.on('error', () => undefined);
    const bus = redisBus(dead, logger);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await bus.publish(membership, { circleId: 'c', userId: 'u' });
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    assert.ok((times[10] as number) < 20, `median publish with Redis down took ${times[10]} ms`);
    await bus.close();
    await dead.close();
    const pgBus = postgresBus('postgres://postgres@127.0.0.1:1/none', logger);
    await pgBus.publish(membership, { circleId: 'c', userId: 'u' });
    await pgBus.close();
  });
});

describe('job queue', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let kysely: Kysely<unknown>;
  const queue = new JobQueueRef('test_jobs');
  const write = defineJob('test:write', z.object({ id: z.string() }));
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'jobs' });
    kysely = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }) });
  });
  afterAll(async () => {
    await kysely.destroy();
    await db.drop();
  });

  it('runs a job committed with a change, never one rolled back, retries a failing one, drops one that cannot succeed', async () => {
    const done: string[] = [];
    const attempts = new Map<string, number>();
    let failuresLeft = 1;
    const finished = new Promise<void>((resolve) => {
      const jobs = createJobQueue({
        databaseUrl: db.url,
        queue,
        logger,
        pollIntervalMs: 100,
        handlers: [
          handle(write, async ({ id }) => {
            attempts.set(id, (attempts.get(id) ?? 0) + 1);
            if (id === 'flaky' && failuresLeft-- > 0) throw new Error('first attempt fails');
            if (id === 'hopeless') throw new PermanentJobError('the other service refused it for good');
            done.push(id);
            if (done.includes('committed') && done.includes('flaky')) resolve();
          }),
        ],
      });
      void (async () => {
        await jobs.migrate();
        await sql`create table notes (id text primary key)`.execute(kysely);
        await kysely.transaction().execute(async (trx) => {
          await sql`insert into notes values ('committed')`.execute(trx);
          await queue.enqueue(trx, write, { id: 'committed' });
        });
        await kysely
          .transaction()
          .execute(async (trx) => {
            await queue.enqueue(trx, write, { id: 'rolled-back' });
            throw new Error('abort');
          })
          .catch(() => undefined);
        await queue.enqueue(kysely, write, { id: 'hopeless' });
        // A payload that does not fit its job (an older format) is dropped, not retried.
        await sql`select test_jobs.add_job('test:write', '{"id": 42}'::json)`.execute(kysely);
        // graphile-worker retries after exp(attempts) seconds: the second attempt comes ~2.7 s later.
        await queue.enqueue(kysely, write, { id: 'flaky' });
        await jobs.start();
        await finished;
        await settle(300);
        await jobs.stop();
      })();
    });
    await finished;
    await settle(600);
    assert.deepEqual([...done].sort(), ['committed', 'flaky']);
    assert.equal(attempts.get('hopeless'), 1, 'a job that cannot succeed runs once');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from test_jobs.jobs`.execute(kysely);
    assert.equal(rows[0]?.n, 0, 'no job is left retrying');
  });

  it('outlives its database going away (scheduled jobs included) and works jobs again once it returns', async () => {
    const proxy = await startTcpProxy();
    const url = proxy.rewrite(db.url);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    const done: string[] = [];
    const tick = defineJob('test:tick', z.object({}));
    let holding: { started: () => void; release: Promise<void> } | undefined;
    const jobs = createJobQueue({
      databaseUrl: url,
      queue: new JobQueueRef('outage_jobs'),
      logger,
      pollIntervalMs: 100,
      handlers: [
        handle(write, async ({ id }) => {
          if (id === 'held' && holding) {
            holding.started();
            await holding.release;
            throw new Error('fails while the database is away');
          }
          done.push(id);
        }),
        handle(tick, async () => undefined),
      ],
      // A schedule makes the runner start its cron, which registers itself in the database.
      schedule: [{ job: tick, at: '* * * * *' }],
    });
    try {
      await jobs.migrate();
      await jobs.start();
      // The network drops every connection while the runner and its cron are talking to Postgres.
      proxy.cut();
      await settle(1_500);
      proxy.restore();
      const outage = new JobQueueRef('outage_jobs');
      await outage.enqueue(kysely, write, { id: 'after' });
      const deadline = Date.now() + 20_000;
      while (!done.includes('after') && Date.now() < deadline) await settle(100);
      // graphile-worker alone never ran it: its first lookup of task ids failed and was cached.
      assert.deepEqual(done, ['after'], 'the job committed after the outage ran');

      // A job that ends (here, fails) while the database is away cannot be marked so: that is
      // logged and the runner replaced, not an unhandled rejection ending the process.
      let release!: () => void;
      const started = new Promise<void>((resolve) => {
        holding = { started: resolve, release: new Promise<void>((r) => (release = r)) };
      });
      await outage.enqueue(kysely, write, { id: 'held' });
      await started;
      proxy.cut();
      release();
      await settle(1_000);
      proxy.restore();
      await outage.enqueue(kysely, write, { id: 'later' });
      const later = Date.now() + 20_000;
      while (!done.includes('later') && Date.now() < later) await settle(100);
      assert.deepEqual(done, ['after', 'later'], 'jobs run again after the second outage');
      assert.deepEqual(unhandled, [], 'no rejection escaped the queue');
    } finally {
      await jobs.stop();
      process.off('unhandledRejection', onUnhandled);
      await proxy.close();
    }
  });

  it('refuses a payload its job denies before it is stored, and a schema name that is not an identifier', async () => {
    await assert.rejects(queue.enqueue(kysely, write, { id: 7 } as unknown as { id: string }));
    assert.throws(() => new JobQueueRef('x; drop table'), /invalid schema name/);
    assert.throws(() => defineJob('no.dots', z.object({})), /invalid job name/);
  });
});
