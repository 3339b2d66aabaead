// The SDK's outbox against a scripted ChatService: pending -> sent through transient failures
// with one client_message_id, the send limit waited out, final failures marked failed, and a
// retry under the same id.
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Client } from '@connectrpc/connect';
import type { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { MessageSchema } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { describe, it } from 'vitest';
import { ChatOutbox, type OutgoingState } from '../src/index.js';

const CIRCLE = '01a22e6d-cec2-717e-abed-580439e37e0b';

/** A ChatService whose SendMessage answers from a script, recording the ids it was sent. */
function scripted(answers: Array<'ok' | ConnectError>) {
  const ids: string[] = [];
  const chat = {
    async sendMessage(req: { clientMessageId: string; body: string }) {
      ids.push(req.clientMessageId);
      const next = answers.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return { message: create(MessageSchema, { id: 'stored', clientMessageId: req.clientMessageId, body: req.body, seq: 7n }) };
    },
  } as unknown as Client<typeof ChatService>;
  return { chat, ids };
}

describe('ChatOutbox', () => {
  it('keeps one client_message_id through transient failures and the send limit, and ends sent', async () => {
    const waits: number[] = [];
    const { chat, ids } = scripted([
      new ConnectError('down', Code.Unavailable),
      new ConnectError('slow down', Code.ResourceExhausted, { 'retry-after': '3' }),
      new ConnectError('lost answer', Code.DeadlineExceeded),
      'ok',
    ]);
    const states: OutgoingState[] = [];
    const outbox = new ChatOutbox(chat, { sleep: async (ms) => void waits.push(ms), random: () => 1, onChange: (o) => states.push(o.state) });
    const o = outbox.send(CIRCLE, 'hello');
    assert.equal(o.state, 'pending', 'shown at once');
    await outbox.settled(o);
    assert.equal(o.state, 'sent');
    assert.equal(o.message?.seq, 7n);
    assert.equal(new Set(ids).size, 1, 'every attempt under the same id');
    assert.equal(ids.length, 4);
    assert.deepEqual(waits, [500, 3000, 1000], 'backoff, then retry-after, then backoff');
    assert.deepEqual(states, ['pending', 'sent']);
    assert.deepEqual(outbox.unsent(), []);
  });

  it('marks final failures failed at once, transient ones after the attempts, and retries under the same id', async () => {
    const { chat, ids } = scripted([new ConnectError('muted', Code.PermissionDenied), 'ok']);
    const outbox = new ChatOutbox(chat, { sleep: async () => undefined });
    const o = outbox.send(CIRCLE, 'let me speak');
    await outbox.settled(o);
    assert.equal(o.state, 'failed');
    assert.equal(o.error?.code, Code.PermissionDenied);
    assert.equal(ids.length, 1, 'no retry of a final refusal');
    assert.deepEqual(outbox.unsent(), [o]);
    outbox.retry(o);
    await outbox.settled(o);
    assert.equal(o.state, 'sent');
    assert.deepEqual(ids, [o.clientMessageId, o.clientMessageId]);

    const down = scripted(Array.from({ length: 10 }, () => new ConnectError('down', Code.Unavailable)));
    const flaky = new ChatOutbox(down.chat, { sleep: async () => undefined, maxAttempts: 3 });
    const p = flaky.send(CIRCLE, 'anyone?');
    await flaky.settled(p);
    assert.deepEqual([p.state, down.ids.length], ['failed', 3]);
  });
});
