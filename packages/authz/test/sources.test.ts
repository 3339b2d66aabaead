import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { createRng } from '@hearth/testkit';
import type { CircleAccess, MembershipSource } from '../src/rules.js';
import { CachedMemberships } from '../src/sources.js';

/** A source whose answers the test hands out one by one; it counts the questions. */
function controlledSource() {
  const pending: Array<{ key: string; resolve: (a: CircleAccess | undefined) => void; reject: (e: Error) => void }> = [];
  const source: MembershipSource = {
    membership: (circleId, userId) =>
      new Promise((resolve, reject) => {
        pending.push({ key: `${circleId}:${userId}`, resolve, reject });
      }),
  };
  return { source, pending };
}

const member: CircleAccess = { role: 'member', banned: false, visibility: 'private', archived: false };
const host: CircleAccess = { role: 'host', banned: false, visibility: 'private', archived: false };
const tick = () => new Promise((r) => setImmediate(r));

describe('CachedMemberships', () => {
  it('asks once for calls that miss together, and answers them all', async () => {
    const { source, pending } = controlledSource();
    const cache = new CachedMemberships(source);
    const calls = Array.from({ length: 8 }, () => cache.membership('c1', 'u1'));
    await tick();
    assert.equal(pending.length, 1);
    pending[0]?.resolve(member);
    for (const r of await Promise.all(calls)) assert.deepEqual(r, member);
    assert.deepEqual(await cache.membership('c1', 'u1'), member);
    assert.equal(pending.length, 1, 'the answer was kept');
  });

  it('does not keep an answer asked for before an invalidation, nor let later calls join that question', async () => {
    const { source, pending } = controlledSource();
    const cache = new CachedMemberships(source);
    const before = cache.membership('c1', 'u1');
    await tick();
    cache.invalidate('c1', 'u1');
    const after = cache.membership('c1', 'u1');
    await tick();
    assert.equal(pending.length, 2, 'a call after the change asks again');
    pending[0]?.resolve(member);
    pending[1]?.resolve(host);
    assert.deepEqual(await before, member);
    assert.deepEqual(await after, host);
    assert.deepEqual(await cache.membership('c1', 'u1'), host);
    assert.equal(pending.length, 2);
  });

  it('keeps no failure: the next call asks again', async () => {
    const { source, pending } = controlledSource();
    const cache = new CachedMemberships(source);
    const a = cache.membership('c1', 'u1');
    const b = cache.membership('c1', 'u1');
    await tick();
    pending[0]?.reject(new Error('circle service unavailable'));
    await assert.rejects(a, /unavailable/);
    await assert.rejects(b, /unavailable/);
    const c = cache.membership('c1', 'u1');
    await tick();
    assert.equal(pending.length, 2);
    pending[1]?.resolve(undefined);
    assert.equal(await c, undefined);
    assert.equal(await cache.membership('c1', 'u1'), undefined, '"no such circle" is remembered too');
    assert.equal(pending.length, 2);
  });

  it('over generated interleavings, never answers a call with a standing asked for before the last change preceding it', async () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = createRng(seed).int;
      // The truth's version; each change is followed by an invalidation, as the bus delivers it.
      let truth = 0;
      const askedAt = new WeakMap<CircleAccess, number>();
      const pending: Array<() => void> = [];
      let questions = 0;
      const source: MembershipSource = {
        membership: () =>
          new Promise((resolve) => {
            questions++;
            const answer: CircleAccess = { ...member };
            askedAt.set(answer, truth);
            pending.push(() => resolve(answer));
          }),
      };
      const cache = new CachedMemberships(source);
      const calls: Array<{ madeAt: number; p: Promise<CircleAccess | undefined> }> = [];
      for (let step = 0; step < 40; step++) {
        const op = rand(5);
        if (op === 0) {
          truth++;
          cache.invalidate('c', rand(2) === 0 ? 'u' : undefined);
        } else if (op <= 2) {
          calls.push({ madeAt: truth, p: cache.membership('c', 'u') });
        } else if (pending.length > 0) {
          pending.splice(rand(pending.length), 1)[0]?.();
        }
        await tick();
      }
      for (const answer of pending.splice(0)) answer();
      const answers = await Promise.all(calls.map((c) => c.p));
      answers.forEach((a, i) => {
        const at = askedAt.get(a as CircleAccess);
        assert.ok(at !== undefined && at >= (calls[i]?.madeAt ?? 0), `seed ${seed}: call ${i} made at version ${calls[i]?.madeAt} got an answer asked at ${at}`);
      });
      assert.ok(questions <= calls.length, `seed ${seed}: more questions than calls`);
    }
  });
});
