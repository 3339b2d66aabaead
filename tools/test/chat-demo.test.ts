// Runs `npm run demo:chat` against a fresh system: two people chat through the SDK, one drops
// the connection while the other sends 50 messages, and all 50 show once, in order.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runChatDemo } from '../src/chat-demo.js';
import { type WholeSystem, startWholeSystem } from './helpers.js';

describe('npm run demo:chat', () => {
  let system: WholeSystem;

  beforeAll(async () => {
    // The demo waits out the send limit as an app would; here the limit is raised to keep it short.
    system = await startWholeSystem({ HEARTH_CIRCLE_SENDS_PER_MINUTE: '1000' });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('shows all 50 messages once, in order, after the dropped connection', async () => {
    const lines: string[] = [];
    const result = await runChatDemo({ baseUrl: system.url, print: (l) => lines.push(l) });
    assert.equal(result.shown.length, 51);
    assert.deepEqual(
      result.shown.slice(1).map((m) => m.id),
      result.acked,
    );
    assert.match(lines.at(-1) ?? '', /^done/);
    assert.ok(lines.some((l) => /shows all 50, once each, in order/.test(l)), lines.join('\n'));
  });
});
