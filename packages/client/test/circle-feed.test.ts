// CircleFeed on its own, over generated arrival orders: whatever order, duplication and loss the
// socket delivers messages in, the app sees each seq once, in order, with nothing missing.
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { type Message, MessageSchema } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { createRng } from '@hearth/testkit';
import { describe, it } from 'vitest';
import { CircleFeed } from '../src/index.js';

const CIRCLE = '01a22e6d-cec2-717e-abed-580439e37e0b';

/** ListMessages over an in-memory history, answering after a random pause. */
function fakeChat(history: readonly Message[], rng: ReturnType<typeof createRng>, calls: { n: number }): Client<typeof ChatService> {
  return {
    async listMessages(req: { position: { case?: string; value?: bigint }; pageSize: number }) {
      calls.n++;
      await new Promise((r) => setTimeout(r, rng.int(3)));
      const after = req.position.case === 'afterSeq' ? (req.position.value ?? 0n) : 0n;
      const messages = history.filter((m) => m.seq > after).slice(0, req.pageSize || 50);
      return { messages, hasMore: false, lastSeq: BigInt(history.length) };
    },
  } as unknown as Client<typeof ChatService>;
}

describe('CircleFeed', () => {
  it('delivers each seq once and in order from generated arrivals (reordered, repeated, lost), filling gaps', async () => {
    const rng = createRng(0xfeed);
    for (let run = 0; run < 60; run++) {
      const total = 1 + rng.int(40);
      const history = Array.from({ length: total }, (_, i) => create(MessageSchema, { seq: BigInt(i + 1), body: `m${i + 1}`, circleId: CIRCLE }));
      const start = BigInt(rng.int(Math.min(total, 5)));
      const calls = { n: 0 };
      const shown: bigint[] = [];
      const feed = new CircleFeed(CIRCLE, start, { onMessage: (m) => shown.push(m.seq) }, fakeChat(history, rng, calls));
      // The socket: each message maybe lost, maybe twice, shuffled within a small window.
      let arrivals = history.flatMap((m) => (rng.chance(0.2) ? [] : rng.chance(0.2) ? [m, m] : [m]));
      arrivals = arrivals.map((m, i) => ({ m, k: i + rng.int(4) })).sort((a, b) => a.k - b.k).map((x) => x.m);
      for (const m of arrivals) {
        feed.live(m);
        if (rng.chance(0.3)) await new Promise((r) => setTimeout(r, 1));
      }
      // The last message is always announced in the end (a later live event, or the resume).
      feed.live(history[total - 1]!);
      const deadline = Date.now() + 2_000;
      while (feed.lastSeq < BigInt(total) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      const want = history.filter((m) => m.seq > start).map((m) => m.seq);
      assert.deepEqual(shown, want, `run ${run}: ${total} messages from ${start}`);
    }
  });
});
