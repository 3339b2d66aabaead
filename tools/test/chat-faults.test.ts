// `npm run -w tools chat:faults` in its short form: 30 SDK clients on three gateway processes
// while gateways are killed and restarted, Redis is restarted once and Postgres once. Every
// acknowledged message reaches every member of its circle once, in order, and none is lost.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { runChatFaults } from '../src/chat-faults.js';

describe('chat under faults (short form)', () => {
  it('loses, repeats and reorders nothing while gateways, Redis and Postgres fail', { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    const c = await runChatFaults({ seconds: 20, gateways: 3, clients: 30, log: (l) => lines.push(l) });
    const report = lines.join('\n');
    assert.ok(c.gatewayKills >= 3 && c.redisRestarts === 1 && c.postgresRestarts === 1, report);
    assert.ok(c.sent > 100, report);
    assert.deepEqual([c.acked, c.failed], [c.sent, 0], `every message acknowledged through the outages\n${report}`);
    assert.equal(c.lost, 0, report);
    assert.equal(c.outOfOrder, 0, report);
    assert.equal(c.delivered, c.acked * 6, `each of 6 members holds each message once\n${report}`);
  });
});
