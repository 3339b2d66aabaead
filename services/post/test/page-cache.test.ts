// The first-page cache without Redis, and with a Redis that fails: always a miss, never an error.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { RedisAccess } from '@hearth/platform';
import { CirclePageCache } from '../src/service/page-cache.js';

const down: RedisAccess = {
  client: undefined as never,
  available: true,
  run: () => Promise.reject(new Error('connection refused')),
};

describe('CirclePageCache', () => {
  it('misses, keeps nothing and throws nothing without Redis, while it is down, or when it fails', async () => {
    for (const redis of [undefined, { ...down, available: false }, down]) {
      const cache = new CirclePageCache(redis);
      assert.equal((await cache.get('c', 'all:21')).rows, undefined);
      await cache.put('c', 'all:21', '1', []);
      await cache.invalidate('c');
    }
  });
});
