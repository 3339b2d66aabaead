import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { BUCKETS_PER_WINDOW, SlidingWindow } from '../src/limits/sliding-window.js';

describe('the sliding window under the limits', () => {
  const MIN = 60_000;
  const window = 15 * MIN;
  const bucket = window / BUCKETS_PER_WINDOW;
  const clock = { now: 0 };
  const make = () =>
    new SlidingWindow(new RateLimiterMemory({ points: 1_000, duration: SlidingWindow.storeDurationSec(900) }), window, () => clock.now);

  it('has no boundary burst: failures late in one window still count early in the next', async () => {
    const w = make();
    const key = randomUUID();
    // A fixed 15-minute window starting at 0 would forget these at 15:00 and allow 5 more.
    clock.now = 10 * window + 14 * MIN + 50_000;
    for (let i = 0; i < 4; i++) await w.add(key);
    clock.now += 20_000; // 15:10 into the fixed window's successor
    const count = await w.add(key);
    assert.equal(count.total, 5);
  });

  it('forgets an event once it is a window (plus at most one bucket) old, and says when', async () => {
    const w = make();
    const key = randomUUID();
    clock.now = 20 * window + 3 * bucket + 1_000;
    for (let i = 0; i < 3; i++) await w.add(key);
    clock.now += 10 * MIN;
    const later = await w.add(key);
    assert.equal(later.total, 4);
    // The three early ones leave when their bucket's end is 15 minutes old: 15 min + at most
    // one bucket after they happened, never sooner.
    const wait = later.msUntilAtMost(1);
    assert.ok(wait > 5 * MIN - 1_000 && wait <= 5 * MIN + bucket, `wait ${wait}`);
    clock.now += wait - 1;
    assert.equal((await w.count(key)).total, 4);
    clock.now += 1;
    assert.equal((await w.count(key)).total, 1);
    assert.equal((await w.count(key)).msUntilAtMost(1), 0);
  });

  it('reset forgets every bucket of the key', async () => {
    const w = make();
    const key = randomUUID();
    clock.now = 30 * window;
    await w.add(key);
    clock.now += 7 * MIN;
    await w.add(key);
    await w.reset(key);
    assert.equal((await w.count(key)).total, 0);
  });
});
