import { dbAt } from './helpers.js';
import type { Database } from '@hearth/db';
import { type TestDatabase, type TestRedis, createTestDatabase, createTestRedis, freePort } from '@hearth/testkit';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  DENY_LIST_GRACE_MS,
  LayeredSessionDenyList,
  PostgresSessionDenyList,
  RedisSessionDenyList,
  createSessionDenyList,
  migrateAuthz,
} from '../src/index.js';

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

let testDb: TestDatabase;
let db: Database<unknown>;
let testRedis: TestRedis;
let redis: Redis;
let deadRedis: Redis;


before(async () => {
  testDb = await createTestDatabase({ prefix: 'authz' });
  db = dbAt(testDb.url);
  assert.deepEqual((await migrateAuthz(db)).applied, ['2026_11_23_0001_revoked_sessions']);
  assert.deepEqual((await migrateAuthz(db)).applied, [], 'idempotent');
  testRedis = await createTestRedis();
  redis = new Redis(testRedis.url, { keyPrefix: testRedis.keyPrefix });
  // A client whose server is gone: with ioredis defaults it queues commands and keeps
  // reconnecting, which is exactly the hang the deny-list's timeout must cut short.
  deadRedis = new Redis({ port: await freePort(), host: '127.0.0.1', lazyConnect: true });
  deadRedis.on('error', () => undefined);
});
after(async () => {
  deadRedis.disconnect();
  await testRedis.flush();
  redis.disconnect();
  await testRedis.close();
  await db.destroy();
  await testDb.drop();
});

describe('PostgresSessionDenyList', () => {
  it('denies a revoked session and nothing else; the table is found whatever the search_path', async () => {
    const list = new PostgresSessionDenyList(db);
    const sid = randomUUID();
    assert.equal(await list.isRevoked(sid), false);
    await list.revoke(sid, minutes(15));
    assert.equal(await list.isRevoked(sid), true);
    assert.equal(await list.isRevoked(randomUUID()), false);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from authz.revoked_sessions where session_id = ${sid}`.execute(db.db);
    assert.equal(rows[0]?.n, 1);
  });

  it('keeps the latest expiry when revoked twice', async () => {
    const list = new PostgresSessionDenyList(db);
    const sid = randomUUID();
    const later = minutes(30);
    await list.revoke(sid, later);
    await list.revoke(sid, minutes(-30));
    assert.equal(await list.isRevoked(sid), true);
    const entry = (await list.activeEntries()).find((e) => e.sessionId === sid);
    assert.equal(entry?.until.getTime(), later.getTime());
  });

  it('ignores entries past their expiry plus the grace, and purges old ones', async () => {
    const list = new PostgresSessionDenyList(db);
    const withinGrace = randomUUID();
    const expired = randomUUID();
    const old = randomUUID();
    await list.revoke(withinGrace, new Date(Date.now() - DENY_LIST_GRACE_MS / 2));
    await list.revoke(expired, new Date(Date.now() - DENY_LIST_GRACE_MS - 1_000));
    await sql`insert into authz.revoked_sessions values (${old}, now() - interval '2 hours')`.execute(db.db);
    assert.equal(await list.isRevoked(withinGrace), true, 'a token accepted under clock skew is still denied');
    assert.equal(await list.isRevoked(expired), false);
    assert.equal(await list.isRevoked(old), false);
    assert.equal(await list.purgeExpired(), 1, 'only the row expired more than an hour ago');
    assert.equal(await list.purgeExpired(), 0);
  });

  it('purges opportunistically on revoke, at most once per interval', async () => {
    const list = new PostgresSessionDenyList(db, { purgeEveryMs: 60_000 });
    const count = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from authz.revoked_sessions where until < now() - interval '1 hour'`.execute(db.db))
        .rows[0]?.n;
    await sql`insert into authz.revoked_sessions values (${randomUUID()}, now() - interval '3 hours')`.execute(db.db);
    await list.revoke(randomUUID(), minutes(15));
    assert.equal(await count(), 0);
    await sql`insert into authz.revoked_sessions values (${randomUUID()}, now() - interval '3 hours')`.execute(db.db);
    await list.revoke(randomUUID(), minutes(15));
    assert.equal(await count(), 1, 'not again within purgeEveryMs');
  });
});

describe('RedisSessionDenyList', () => {
  it('denies a revoked session until its expiry plus the grace', async () => {
    const list = new RedisSessionDenyList(redis);
    const sid = randomUUID();
    assert.equal(await list.isRevoked(sid), false);
    const until = minutes(15);
    await list.revoke(sid, until);
    assert.equal(await list.isRevoked(sid), true);
    assert.equal(await list.isRevoked(randomUUID()), false);
    const expireAt = await redis.pexpiretime(`hearth:authz:revoked:${sid}`);
    assert.equal(expireAt, until.getTime() + DENY_LIST_GRACE_MS);
  });

  it('keeps the latest expiry when revoked twice, in either order', async () => {
    const list = new RedisSessionDenyList(redis, { keyPrefix: 'latest:' });
    const [a, b] = [randomUUID(), randomUUID()];
    const [near, far] = [minutes(5), minutes(20)];
    await list.revoke(a, near);
    await list.revoke(a, far);
    await list.revoke(b, far);
    await list.revoke(b, near);
    for (const sid of [a, b]) assert.equal(await redis.pexpiretime(`latest:${sid}`), far.getTime() + DENY_LIST_GRACE_MS);
  });

  it('writes nothing for a session whose tokens have all expired', async () => {
    const list = new RedisSessionDenyList(redis);
    const sid = randomUUID();
    await list.revoke(sid, new Date(Date.now() - DENY_LIST_GRACE_MS - 1_000));
    assert.equal(await list.isRevoked(sid), false);
  });

  it('fails (rather than answering "not revoked") when Redis does not answer in time', { timeout: 5_000 }, async () => {
    const list = new RedisSessionDenyList(deadRedis, { timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(list.isRevoked(randomUUID()), /Redis did not answer within 200 ms/);
    assert.ok(Date.now() - started < 1_000);
  });
});

describe('LayeredSessionDenyList (Redis in front of Postgres)', () => {
  it('writes both stores and reads Redis', async () => {
    const cache = new RedisSessionDenyList(redis, { keyPrefix: 'layered1:' });
    const record = new PostgresSessionDenyList(db);
    const list = new LayeredSessionDenyList({ cache, record });
    const sid = randomUUID();
    await list.revoke(sid, minutes(15));
    assert.equal(await cache.isRevoked(sid), true);
    assert.equal(await record.isRevoked(sid), true);
    assert.equal(await list.isRevoked(sid), true);
    assert.equal(await list.isRevoked(randomUUID()), false);
  });

  it('answers from Postgres while Redis is down', { timeout: 5_000 }, async () => {
    const record = new PostgresSessionDenyList(db);
    const sid = randomUUID();
    await record.revoke(sid, minutes(15));
    const list = new LayeredSessionDenyList({ cache: new RedisSessionDenyList(deadRedis, { timeoutMs: 100 }), record });
    assert.equal(await list.isRevoked(sid), true);
    assert.equal(await list.isRevoked(randomUUID()), false);
    // A revocation while Redis is down still lands in the record, and is seen.
    const during = randomUUID();
    await list.revoke(during, minutes(15));
    assert.equal(await list.isRevoked(during), true);
  });

  it('fails closed when both Redis and Postgres are down', { timeout: 5_000 }, async () => {
    const deadDb = dbAt(`postgres://postgres@127.0.0.1:${await freePort()}/none`);
    try {
      const list = new LayeredSessionDenyList({
        cache: new RedisSessionDenyList(deadRedis, { timeoutMs: 100 }),
        record: new PostgresSessionDenyList(deadDb),
      });
      await assert.rejects(list.isRevoked(randomUUID()));
    } finally {
      await deadDb.destroy();
    }
  });

  it('survives Redis losing its data: answers from Postgres, then refills the cache', async () => {
    const prefix = `layered-loss-${randomUUID()}:`;
    const cache = new RedisSessionDenyList(redis, { keyPrefix: prefix });
    const record = new PostgresSessionDenyList(db);
    const list = new LayeredSessionDenyList({ cache, record });
    const sid = randomUUID();
    await list.revoke(sid, minutes(15));
    assert.equal(await list.isRevoked(randomUUID()), false); // first read refills and marks warm
    assert.deepEqual(await cache.lookup(sid), { revoked: true, warm: true });

    // Redis restarts empty: every key of this list is gone, marker included.
    const keys = await redis.keys(`${testRedis.keyPrefix}${prefix}*`);
    await redis.del(...keys.map((k) => k.slice(testRedis.keyPrefix.length)));
    assert.deepEqual(await cache.lookup(sid), { revoked: false, warm: false });

    assert.equal(await list.isRevoked(sid), true, 'the record answers while the cache is cold');
    assert.deepEqual(await cache.lookup(sid), { revoked: true, warm: true }, 'and the cache was refilled');
  });

  it('createSessionDenyList: Postgres alone without Redis, layered with it', async () => {
    assert.ok(createSessionDenyList({ db }) instanceof PostgresSessionDenyList);
    assert.ok(createSessionDenyList({ db, redis }) instanceof LayeredSessionDenyList);
  });
});
