import { Code, ConnectError } from '@connectrpc/connect';
import { type TestDatabase, type TestRedis, createTestDatabase, createTestRedis } from '@hearth/testkit';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { type AuthLimits, type AuthLimitsConfig, type LoginKey, createAuthLimits, defaultAuthLimitsConfig } from '../src/limits/index.js';
import { SlidingWindow } from '@hearth/platform';

// The default login budgets except a smaller address budget, so every store reaches it quickly.
const config: AuthLimitsConfig = {
  ...defaultAuthLimitsConfig,
  loginFailuresPerAddress: 20,
  registerPerIpPerHour: 3,
  refreshPerIpPerMinute: 4,
  oauthPerIpPerHour: 2,
};
const tinyWindow: AuthLimitsConfig = { ...config, loginWindowSec: 2 };

let testRedis: TestRedis;
let redis: Redis;
let testDb: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  testRedis = await createTestRedis();
  redis = new Redis(testRedis.url, { lazyConnect: true });
  // The limiter sends nothing to a Redis that is not ready (it counts in memory instead), so
  // the Redis cases must start on a connected client or they would silently test memory.
  await redis.connect();
  testDb = await createTestDatabase({ prefix: 'auth_limits' });
  pool = new pg.Pool({ connectionString: testDb.url, max: 4 });
  await pool.query('create schema auth');
});
afterAll(async () => {
  await testRedis.flush();
  redis.disconnect();
  await testRedis.close();
  await pool.end();
  await testDb.drop();
});

const fresh = (): LoginKey => ({ email: `${randomUUID()}@example.test`, ip: `10.${randomUUID()}` });

/** One login that fails verification, as the service runs it. */
async function failLogin(limits: AuthLimits, key: LoginKey): Promise<void> {
  await limits.checkLogin(key);
  await limits.recordLoginFailure(key);
}

/** A login attempt that is let through (then released, as one whose check broke would be). */
async function admitted(limits: AuthLimits, key: LoginKey): Promise<void> {
  await limits.checkLogin(key);
  await limits.releaseLogin?.(key);
}

/** Asserts a ResourceExhausted refusal and returns its retry-after in seconds. */
async function refused(attempt: Promise<void>, max = SlidingWindow.storeDurationSec(900)): Promise<number> {
  const err = await attempt.then(
    () => assert.fail('expected ResourceExhausted, the attempt was allowed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.code, Code.ResourceExhausted);
  const retryAfter = Number(err.metadata.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= max, `retry-after ${err.metadata.get('retry-after')}`);
  return retryAfter;
}

interface Backend {
  name: string;
  make(cfg: AuthLimitsConfig): AuthLimits;
  /** Every stored key, to show where counters live and that no email is stored in clear. */
  storedKeys?(): Promise<string[]>;
}

const backends: Backend[] = [
  { name: 'memory', make: (cfg) => createAuthLimits({ config: cfg }) },
  {
    name: 'redis',
    make: (cfg) => createAuthLimits({ config: cfg, redis, keyPrefix: testRedis.keyPrefix }),
    storedKeys: async () => {
      const keys: string[] = [];
      for await (const batch of redis.scanStream({ match: `${testRedis.keyPrefix}*`, count: 500 })) keys.push(...(batch as string[]));
      return keys;
    },
  },
  {
    name: 'postgres',
    make: (cfg) => createAuthLimits({ config: cfg, postgres: { pool, schema: 'auth' } }),
    storedKeys: async () => (await pool.query<{ key: string }>('select key from auth.rate_limits')).rows.map((r) => r.key),
  },
];

for (const backend of backends) {
  describe(`auth limits in ${backend.name}`, () => {
    it('refuses an account from one address after its failures there, not from elsewhere, with a retry-after', async () => {
      const limits = backend.make(config);
      const key = fresh();
      for (let i = 0; i < config.loginFailuresPerAccountAddress; i++) await failLogin(limits, key);
      const retryAfter = await refused(limits.checkLogin(key));
      assert.ok(retryAfter > 890, `the window started moments ago, so nearly all of it is left: ${retryAfter}`);
      // The same person on another network, and the neighbours on this one, are not refused.
      await admitted(limits, { email: key.email, ip: `${key.ip}-elsewhere` });
      await admitted(limits, { email: `${randomUUID()}@example.test`, ip: key.ip });
      if (backend.storedKeys) {
        const keys = await backend.storedKeys();
        assert.ok(keys.some((k) => k.includes('auth_login_fail_account_ip:')), keys.join(' '));
        assert.ok(!keys.some((k) => k.includes(key.email) || k.includes(key.email.split('@')[0] ?? '')), 'no email in clear');
      }
    });

    it('refuses an account from every address once its failures from all of them reach the account budget', async () => {
      const limits = backend.make(config);
      const email = `${randomUUID()}@example.test`;
      // Each attempt from its own address: only the account counter can refuse.
      for (let i = 0; i < config.loginFailuresPerAccount; i++) await failLogin(limits, { email, ip: `192.0.2.${i}` });
      assert.ok((await refused(limits.checkLogin({ email, ip: '192.0.2.99' }))) > 890);
      await admitted(limits, fresh());
    });

    it('refuses every account from an address once failures from it reach the address budget', async () => {
      const limits = backend.make(config);
      const ip = `198.51.100.${randomUUID()}`;
      for (let i = 0; i < config.loginFailuresPerAddress; i++) await failLogin(limits, { email: `${randomUUID()}@example.test`, ip });
      assert.ok((await refused(limits.checkLogin({ email: `${randomUUID()}@example.test`, ip }))) > 890);
      await admitted(limits, { email: `${randomUUID()}@example.test`, ip: `${ip}-other` });
    });

    it('a success clears the account failures, not those of the account elsewhere or of the address', async () => {
      const limits = backend.make(config);
      const key = fresh();
      const elsewhere = { email: key.email, ip: `${key.ip}-elsewhere` };
      const third = { email: key.email, ip: `${key.ip}-third` };
      for (let i = 0; i < 4; i++) await failLogin(limits, key);
      for (let i = 0; i < 4; i++) await failLogin(limits, elsewhere);
      await limits.checkLogin(elsewhere);
      await limits.recordLoginSuccess(elsewhere);
      // The account is back at 0: four more failures (12 in all) stay below its budget.
      for (let i = 0; i < 4; i++) await failLogin(limits, third);
      await admitted(limits, third);
      // The account from the first address keeps its 4 (a right password elsewhere says nothing
      // about who typed those): one more there reaches that budget.
      await failLogin(limits, key);
      await refused(limits.checkLogin(key));
      // The address keeps its 5 too: the rest of its budget, by anyone, reaches it.
      for (let i = 5; i < config.loginFailuresPerAddress; i++) await failLogin(limits, { email: `${randomUUID()}@example.test`, ip: key.ip });
      await refused(limits.checkLogin({ email: `${randomUUID()}@example.test`, ip: key.ip }));
    });

    it('parallel attempts cannot all pass the check before their failures are counted', async () => {
      const limits = backend.make(config);
      const key = fresh();
      const budget = config.loginFailuresPerAccountAddress;
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => limits.checkLogin(key)));
      const passed = outcomes.filter((o) => o.status === 'fulfilled').length;
      // Exactly the budget with one Redis connection; a Postgres pool may order the reservations
      // differently per connection and refuse a few more, never admit more.
      assert.ok(passed >= 1 && passed <= budget, `at most as many attempts in flight as failures allowed, ${passed} passed`);
      for (const o of outcomes) if (o.status === 'rejected') await refused(Promise.reject(o.reason as Error), 1);
      for (let i = 0; i < passed; i++) await limits.recordLoginFailure(key);
      for (let i = passed; i < budget; i++) await failLogin(limits, key);
      const retryAfter = await refused(limits.checkLogin(key));
      assert.ok(retryAfter > 1, 'at the limit the wait is the window, not the in-flight second');
    });

    it('an attempt still in flight is released by its outcome', async () => {
      const limits = backend.make(config);
      const key = fresh();
      for (let i = 0; i < 4; i++) await failLogin(limits, key);
      await limits.checkLogin(key);
      // The fifth attempt may fail: nothing else may be verified meanwhile.
      await refused(limits.checkLogin(key), 1);
      await limits.recordLoginSuccess(key);
      await admitted(limits, key);
    });

    it('an attempt ended without a verdict is released and counts for nothing', async () => {
      const limits = backend.make(config);
      const key = fresh();
      for (let i = 0; i < 4; i++) await failLogin(limits, key);
      // Many more than any budget, one after another and all at once: none is left counted.
      for (let i = 0; i < 12; i++) {
        await limits.checkLogin(key);
        await limits.releaseLogin?.(key);
      }
      const together = await Promise.allSettled(
        Array.from({ length: 12 }, async () => {
          await limits.checkLogin(key);
          await limits.releaseLogin?.(key);
        }),
      );
      assert.ok(together.some((o) => o.status === 'fulfilled'));
      // Still one failure left in the budget, and nothing in flight.
      await failLogin(limits, key);
      await refused(limits.checkLogin(key));
    });

    it('limits registrations, refreshes and OAuth flows per address', async () => {
      const limits = backend.make(config);
      const ip = `203.0.113.${randomUUID()}`;
      for (let i = 0; i < 3; i++) await limits.consumeRegister(ip);
      assert.ok((await refused(limits.consumeRegister(ip), SlidingWindow.storeDurationSec(3600))) > 3500);
      await limits.consumeRegister(`${ip}-other`);
      for (let i = 0; i < 4; i++) await limits.consumeRefresh(ip);
      await refused(limits.consumeRefresh(ip), SlidingWindow.storeDurationSec(60));
      await limits.consumeRefresh(`${ip}-other`);
      for (let i = 0; i < 2; i++) await limits.consumeOAuth(ip);
      await refused(limits.consumeOAuth(ip), SlidingWindow.storeDurationSec(3600));
      await limits.consumeOAuth(`${ip}-other`);
    });

    it('lets the account and the address try again when the window ends', async () => {
      const limits = backend.make(tinyWindow);
      const key = fresh();
      for (let i = 0; i < 5; i++) await failLogin(limits, key);
      const retryAfter = await refused(limits.checkLogin(key), SlidingWindow.storeDurationSec(2));
      // Retry-After promises one more attempt then (the oldest failures have left the window);
      // how many more depends on how the five fell into the window's buckets, so only one is.
      await sleep(retryAfter * 1000 + 100);
      await admitted(limits, key);
      // Once the whole window has passed since the last failure, the full budget is back.
      await sleep(2_000 + 200);
      for (let i = 0; i < 4; i++) await failLogin(limits, key);
      await admitted(limits, key);
    });
  });
}

describe('auth limits when the store is down', () => {
  const deadRedisClients = {
    'failing fast': () => new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
    // ioredis defaults, as an app would have them: commands queue while it reconnects.
    'queueing while reconnecting': () => new Redis({ host: '127.0.0.1', port: 1 }),
  };
  for (const [name, connect] of Object.entries(deadRedisClients)) {
    it(`Redis unreachable (client ${name}): limits per process, without waiting on the connection`, async () => {
      const dead = connect();
      dead.on('error', () => undefined);
      try {
        const limits = createAuthLimits({ config, redis: dead, keyPrefix: testRedis.keyPrefix });
        const key = fresh();
        const started = Date.now();
        for (let i = 0; i < 5; i++) await failLogin(limits, key);
        await refused(limits.checkLogin(key));
        for (let i = 0; i < 3; i++) await limits.consumeRegister(key.ip);
        await refused(limits.consumeRegister(key.ip), SlidingWindow.storeDurationSec(3600));
        assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
      } finally {
        dead.disconnect();
      }
    });
  }

  it('Postgres unreachable: limits per process', async () => {
    const deadPool = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
    deadPool.on('error', () => undefined);
    try {
      const limits = createAuthLimits({ config, postgres: { pool: deadPool, schema: 'auth' } });
      const key = fresh();
      for (let i = 0; i < 5; i++) await failLogin(limits, key);
      await refused(limits.checkLogin(key));
    } finally {
      await deadPool.end();
    }
  });

  it('rejects a config that would disable a limit', () => {
    assert.throws(() => createAuthLimits({ config: { ...config, loginFailuresPerAccountAddress: 0 } }), /loginFailuresPerAccountAddress=0/);
    assert.throws(() => createAuthLimits({ config, postgres: { pool, schema: 'auth"; drop' } }), /invalid schema name/);
  });
});
