// The inbox as a pure unit over generated interleavings of arriving frames, synchronous and
// asynchronous handlers and their completions: frames are handled one at a time, in arrival
// order, and what waits stays within its bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { FrameInbox } from '../src/gateway/frame-inbox.js';
import { createRng } from '@hearth/testkit';

describe('FrameInbox', () => {
  it('handles frames one at a time in arrival order, holding at most the bounds behind a pending one', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = createRng(seed);
      const bounds = { maxFrames: 1 + rnd.int(5), maxBytes: 10 + rnd.int(40) };
      const ctx = `seed ${seed} ${JSON.stringify(bounds)}`;
      const handled: number[] = [];
      const accepted: number[] = [];
      let inFlight: (() => void) | undefined;
      let running = 0;
      const inbox = new FrameInbox(
        bounds,
        (data) => {
          assert.equal(running, 0, `${ctx}: a frame started while another was being handled`);
          handled.push(data.readUInt32BE(0));
          // About one frame in three is slow, as Hello is while its token is verified.
          if (rnd.int(3) > 0) return;
          running++;
          return new Promise<void>((resolve) => {
            inFlight = () => {
              running--;
              inFlight = undefined;
              resolve();
            };
          });
        },
        (err) => assert.fail(`${ctx}: ${String(err)}`),
      );
      let waitingBytes = 0;
      const sizes = new Map<number, number>();
      for (let n = 0; n < 60; n++) {
        if (inFlight && rnd.int(3) === 0) {
          inFlight();
          // Let the settled promise drain what waited.
          await Promise.resolve();
          await Promise.resolve();
        }
        const size = 4 + rnd.int(12);
        const data = Buffer.alloc(size);
        data.writeUInt32BE(n, 0);
        sizes.set(n, size);
        const waiting = accepted.filter((a) => !handled.includes(a));
        waitingBytes = waiting.reduce((sum, a) => sum + (sizes.get(a) ?? 0), 0);
        const busy = running > 0;
        const fits = !busy || (waiting.length < bounds.maxFrames && waitingBytes + size <= bounds.maxBytes);
        const ok = inbox.push(data, true);
        assert.equal(ok, fits, `${ctx} frame ${n}: busy=${busy} waiting=${waiting.length}/${waitingBytes}B size=${size}`);
        if (ok) accepted.push(n);
        assert.deepEqual(handled, accepted.slice(0, handled.length), `${ctx}: handled in arrival order`);
        if (!busy) assert.ok(handled.includes(n) || !ok, `${ctx}: an idle inbox handles a frame at once`);
      }
      while (inFlight) {
        inFlight();
        await Promise.resolve();
        await Promise.resolve();
      }
      assert.deepEqual(handled, accepted, `${ctx}: every accepted frame is handled, in order`);
    }
  });

  it('handles nothing after stop, including what was waiting', async () => {
    const handled: number[] = [];
    let finish: () => void = () => undefined;
    const inbox = new FrameInbox(
      { maxFrames: 10, maxBytes: 1_000 },
      (data) => {
        handled.push(data[0] ?? -1);
        if (data[0] === 0) return new Promise<void>((resolve) => (finish = resolve));
      },
      (err) => assert.fail(String(err)),
    );
    for (let i = 0; i < 5; i++) assert.ok(inbox.push(Buffer.from([i]), true));
    inbox.stop();
    finish();
    await new Promise((r) => setImmediate(r));
    assert.ok(inbox.push(Buffer.from([9]), true));
    assert.deepEqual(handled, [0]);
  });

  it('reports a handler that throws or rejects instead of letting it escape', async () => {
    for (const kind of ['throw', 'reject'] as const) {
      const errors: unknown[] = [];
      const inbox = new FrameInbox(
        { maxFrames: 2, maxBytes: 100 },
        () => {
          if (kind === 'throw') throw new Error('boom');
          return Promise.reject(new Error('boom'));
        },
        (err) => errors.push(err),
      );
      inbox.push(Buffer.from([1]), true);
      await new Promise((r) => setImmediate(r));
      assert.equal(errors.length, 1, kind);
    }
  });
});
