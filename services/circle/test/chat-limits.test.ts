import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { type CounterBackend, memoryBackend } from '@hearth/platform';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { ChatLimits } from '../src/chat/service/limits.js';

const config = { sendsPerMinute: 3, duplicates: 2, duplicateWindowSec: 60 };

/** A store whose every call hangs, as Redis does behind a half-open connection. */
class StalledStore extends RateLimiterMemory {
  override get(): never {
    return new Promise(() => undefined) as never;
  }
  override penalty(): never {
    return new Promise(() => undefined) as never;
  }
}

function stalledBackend(): CounterBackend {
  const mem = memoryBackend('t:');
  return { store: (spec) => new StalledStore({ points: spec.points, duration: spec.durationSec }) as never, local: mem.local, ready: () => Promise.resolve() };
}

async function refusedWith(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  assert.fail('expected a refusal');
}

describe('ChatLimits', () => {
  it('counts only what is counted, per person and per body', async () => {
    const limits = new ChatLimits(memoryBackend(`t${Date.now()}:`), config);
    await limits.check('u1', 'a');
    await limits.check('u1', 'a'); // checks alone count nothing
    await limits.count('u1', 'a');
    await limits.count('u1', 'a');
    assert.equal((await refusedWith(limits.check('u1', 'a'))).code, Code.ResourceExhausted);
    await limits.check('u1', 'b');
    await limits.check('u2', 'a');
    await limits.count('u1', 'b');
    const err = await refusedWith(limits.check('u1', 'c'));
    assert.match(err.rawMessage, /at most 3 messages a minute/);
    assert.ok(Number(err.metadata.get('retry-after')) >= 1);
  });

  it('answers from memory at once while the store is known to be down, and within the timeout when it stalls', async () => {
    const down = new ChatLimits(stalledBackend(), config, () => false);
    const t0 = performance.now();
    await down.check('u1', 'a');
    await down.count('u1', 'a');
    assert.ok(performance.now() - t0 < 50, 'no wait while the breaker is open');

    const stalled = new ChatLimits(stalledBackend(), config, () => true);
    const t1 = performance.now();
    await stalled.check('u1', 'a');
    const waited = performance.now() - t1;
    assert.ok(waited < 2_000, `a stalled store costs at most its timeout (${waited.toFixed(0)} ms)`);
  });
});
