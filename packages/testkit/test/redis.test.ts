import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import { Redis } from 'ioredis';
import { createTestRedis, freePort } from '../src/index.js';

describe('createTestRedis', () => {
  it('isolates by key prefix: flush removes only its own keys', async () => {
    const a = await createTestRedis();
    const b = await createTestRedis();
    assert.notEqual(a.keyPrefix, b.keyPrefix);
    const ra = new Redis(a.url, { keyPrefix: a.keyPrefix });
    const rb = new Redis(b.url, { keyPrefix: b.keyPrefix });
    const raw = new Redis(a.url);
    const outside = `hearth_t_outside:${randomBytes(6).toString('hex')}`;
    afterAll(async () => {
      await raw.del(outside);
      await Promise.all([a.flush(), b.flush()]);
      await Promise.all([ra.quit(), rb.quit(), raw.quit(), a.close(), b.close()]);
    });

    // More keys than one SCAN page, so flush has to follow the cursor.
    for (let i = 0; i < 1_200; i++) await ra.set(`k${i}`, 'a');
    await rb.set('k0', 'b');
    await raw.set(outside, 'x');
    assert.equal(await ra.get('k0'), 'a');
    assert.equal(await rb.get('k0'), 'b');

    await a.flush();
    assert.equal(await ra.exists('k0', 'k1199'), 0);
    assert.equal((await raw.scan('0', 'MATCH', `${a.keyPrefix}*`, 'COUNT', 10_000))[1].length, 0);
    assert.equal(await rb.get('k0'), 'b');
    assert.equal(await raw.get(outside), 'x');
  });

  it('explains how to start Redis when it is not reachable', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
    try {
      await assert.rejects(createTestRedis(), /Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+.*redis-server --daemonize yes.*REDIS_URL/s);
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });
});
