import { Code, ConnectError } from '@connectrpc/connect';
import { type TestDatabase, type TestRedis, createTestDatabase, createTestRedis } from '@hearth/testkit';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { accountKey } from '../src/limits/auth-limits.js';
import { type AuthLimits, type AuthLimitsConfig, type LoginKey, createAuthLimits, defaultAuthLimitsConfig, passwordAttempt } from '../src/limits/index.js';
import { type Cases, cases } from './cases.js';
import { type TcpProxy, startTcpProxy } from '@hearth/testkit';

const config: AuthLimitsConfig = defaultAuthLimitsConfig;
const BUDGET = config.loginFailuresPerAccountAddress;
/** Store calls give up quickly here, so a stalled store costs these tests little time. */
const TIMEOUT_MS = 150;

let testRedis: TestRedis;
let redis: Redis;
let testDb: TestDatabase;
beforeAll(async () => {
  testRedis = await createTestRedis();
  redis = new Redis(testRedis.url, { lazyConnect: true });
  await redis.connect();
  testDb = await createTestDatabase({ prefix: 'auth_limits_outages' });
});
afterAll(async () => {
  await testRedis.flush();
  redis.disconnect();
  await testRedis.close();
  await testDb.drop();
});

const fresh = (): LoginKey => ({ email: `${randomUUID()}@example.test`, ip: `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7` });

/** The errors a password check meets when the database is gone or stuck, as pg reports them. */
function infrastructureFailure(c: Cases): Error {
  return c.pick([
    () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    () => Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    () => new Error('Connection terminated unexpectedly'),
    () => new Error('timeout exceeded when trying to connect'),
  ])();
}

/** A login run as the service runs it (passwordAttempt), whose check may break instead of judging. */
async function login(limits: AuthLimits, key: LoginKey, how: 'right' | 'wrong' | Error): Promise<'ok' | 'wrong' | 'broken' | number> {
  try {
    const { passwordOk } = await passwordAttempt(limits, key, async () => {
      await sleep(1);
      if (how instanceof Error) throw how;
      return { passwordOk: how === 'right' };
    });
    return passwordOk ? 'ok' : 'wrong';
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.ResourceExhausted) return Number(err.metadata.get('retry-after'));
    return 'broken';
  }
}

/** Sums the counters named `name` in Redis under `prefix` (keys may carry a bucket suffix). */
async function stored(prefix: string, name: string, key = ''): Promise<number> {
  let sum = 0;
  for await (const batch of redis.scanStream({ match: `${prefix}${name}:${key}*`, count: 500 })) {
    for (const k of batch as string[]) sum += Number((await redis.get(k)) ?? 0);
  }
  return sum;
}

/** Waits until `check` holds (in-flight releases are retried once a second), at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`${what} did not happen within ${ms} ms`);
    await sleep(50);
  }
}

describe('a password check that breaks counts for nothing (generated cases, real Redis)', () => {
  for (let run = 0; run < 4; run++) {
    const c = cases();
    it(`failed lookups, alone or at once, take no budget and leave nothing in flight (seed ${c.seed})`, async () => {
      const prefix = `${testRedis.keyPrefix}${randomUUID()}:`;
      const limits = createAuthLimits({ config, redis, keyPrefix: prefix });
      const key = fresh();
      let wrong = 0;
      const broken = c.int(BUDGET + 1, 30);
      for (let done = 0; done < broken; ) {
        if (wrong < BUDGET - 1 && c.chance(0.2)) {
          assert.equal(await login(limits, key, 'wrong'), 'wrong');
          wrong++;
          continue;
        }
        // A burst of lookups breaking together, as when the database goes away under load.
        const burst = Math.min(c.int(1, 8), broken - done);
        const outcomes = await Promise.all(Array.from({ length: burst }, () => login(limits, key, infrastructureFailure(c))));
        // Beyond the attempts one account may have in flight from one address, a refusal to
        // come back in a second: never a wait for failures that did not happen.
        for (const o of outcomes) assert.ok(o === 'broken' || o === 1, `outcome ${o}`);
        done += burst;
      }
      assert.equal(await stored(prefix, 'auth_login_in_flight'), 0, 'reservations left behind');
      assert.equal(await stored(prefix, 'auth_login_fail_account', accountKey(key.email)), wrong, 'failures counted');
      // Straight away: the rest of the budget is still there, and the right password signs in.
      for (let i = wrong; i < BUDGET - 1; i++) assert.equal(await login(limits, key, 'wrong'), 'wrong');
      assert.equal(await login(limits, key, 'right'), 'ok');
    });
  }
});

describe('the limiter store failing under sign-in (a proxy takes the real store away)', () => {
  let proxy: TcpProxy;
  let viaProxy: Redis;
  beforeAll(async () => {
    const url = new URL(testRedis.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
    viaProxy = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    viaProxy.on('error', () => undefined);
    await viaProxy.connect();
  });
  afterAll(async () => {
    viaProxy.disconnect();
    await proxy.close();
  });
  const reconnected = () => eventually(async () => viaProxy.status === 'ready', 5_000, 'reconnecting to Redis');

  for (let run = 0; run < 3; run++) {
    const c = cases();
    it(`Redis lost and back, between and within attempts: no failure added, no reservation kept (seed ${c.seed})`, async () => {
      const prefix = `${testRedis.keyPrefix}${randomUUID()}:`;
      const limits = createAuthLimits({ config, redis: viaProxy, keyPrefix: prefix, timeoutMs: TIMEOUT_MS });
      const key = fresh();
      let wrong = 0;
      for (let step = 0; step < 12; step++) {
        const how = wrong < BUDGET - 1 && c.chance(0.5) ? 'wrong' : infrastructureFailure(c);
        if (how === 'wrong') wrong++;
        const cutAt = c.pick(['before', 'within', 'never'] as const);
        if (cutAt === 'before') proxy.cut();
        const outcome = passwordAttempt(limits, key, async () => {
          if (cutAt === 'within') proxy.cut();
          if (how instanceof Error) throw how;
          return { passwordOk: false };
        }).then(
          () => 'wrong',
          (err: unknown) => (err instanceof ConnectError ? err.code : 'broken'),
        );
        assert.equal(await outcome, how === 'wrong' ? 'wrong' : 'broken');
        if (cutAt !== 'never') {
          proxy.restore();
          await reconnected();
        }
      }
      await eventually(async () => (await stored(prefix, 'auth_login_in_flight')) === 0, 3_000, 'every reservation released');
      const counted = await stored(prefix, 'auth_login_fail_account', accountKey(key.email));
      assert.ok(counted <= wrong, `${counted} failures in Redis, ${wrong} wrong passwords`);
      assert.equal(await login(limits, key, 'right'), 'ok');
    });
  }

  it('Redis stalled: attempts go on within the timeout, and what lands late is taken back', async () => {
    const prefix = `${testRedis.keyPrefix}${randomUUID()}:`;
    const limits = createAuthLimits({ config, redis: viaProxy, keyPrefix: prefix, timeoutMs: TIMEOUT_MS });
    const key = fresh();
    assert.equal(await login(limits, key, 'wrong'), 'wrong');
    proxy.stall();
    const started = Date.now();
    try {
      for (let i = 0; i < 3; i++) assert.equal(await login(limits, key, new Error('Connection terminated unexpectedly')), 'broken');
      assert.equal(await login(limits, key, 'wrong'), 'wrong');
      // ready, reserve, count, release: a few timeouts per attempt, never the stall's length.
      assert.ok(Date.now() - started < 4 * 6 * TIMEOUT_MS, `took ${Date.now() - started} ms`);
    } finally {
      proxy.restore();
    }
    // The stalled reservations reach Redis now, and are taken back as they land.
    await eventually(async () => (await stored(prefix, 'auth_login_in_flight')) === 0, 3_000, 'every reservation released');
    const counted = await stored(prefix, 'auth_login_fail_account', accountKey(key.email));
    assert.ok(counted <= 2, `${counted} failures in Redis for 2 wrong passwords`);
    assert.equal(await login(limits, key, 'right'), 'ok');
  });

  it('Postgres as the store, lost and back: no failure added, no reservation kept', async () => {
    const pgUrl = new URL(testDb.url);
    const pgProxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.port = String(pgProxy.port);
    const pool = new pg.Pool({ connectionString: pgUrl.toString(), max: 4, connectionTimeoutMillis: 1_000 });
    pool.on('error', () => undefined);
    try {
      await pool.query('create schema if not exists auth');
      const limits = createAuthLimits({ config, postgres: { pool, schema: 'auth' }, timeoutMs: 500 });
      const key = fresh();
      const c = cases();
      let wrong = 0;
      for (let step = 0; step < 8; step++) {
        const how = wrong < BUDGET - 1 && c.chance(0.5) ? 'wrong' : infrastructureFailure(c);
        if (how === 'wrong') wrong++;
        const cut = c.chance(0.5);
        if (cut) pgProxy.cut();
        assert.equal(await login(limits, key, how), how === 'wrong' ? 'wrong' : 'broken', `seed ${c.seed}, step ${step}`);
        if (cut) pgProxy.restore();
      }
      // The table is made the first time Postgres answers; if it never did during the steps,
      // nothing was stored.
      const rows = async (like: string) =>
        Number(
          (
            await pool
              .query<{ n: string }>('select coalesce(sum(points), 0) as n from auth.rate_limits where key like $1 and expire > $2', [like, Date.now()])
              .catch((err: { code?: string }) => {
                if (err.code === '42P01') return { rows: [{ n: '0' }] };
                throw err;
              })
          ).rows[0]?.n,
        );
      await eventually(async () => (await rows('auth_login_in_flight%')) === 0, 3_000, 'every reservation released');
      assert.ok((await rows(`auth_login_fail_account:${accountKey(key.email)}%`)) <= wrong);
      assert.equal(await login(limits, key, 'right'), 'ok');
    } finally {
      await pool.end();
      await pgProxy.close();
    }
  });
});
