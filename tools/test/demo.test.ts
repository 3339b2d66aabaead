// Runs `npm run demo` (the README's walkthrough) against a fresh system, so the README can
// never describe a story that no longer works.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { runDemo } from '../src/demo.js';
import { startWholeSystem, type WholeSystem } from './helpers.js';

describe('npm run demo', () => {
  let system: WholeSystem;

  beforeAll(async () => {
    system = await startWholeSystem();
  });
  afterAll(async () => {
    await system?.close();
  });

  it('tells the README story step by step against a running system', async () => {
    const lines: string[] = [];
    const result = await runDemo({ baseUrl: system.url, print: (l) => lines.push(l) });
    const rpcs = lines.map((l) => /^\s*\d+\. (\w+\.\w+)/.exec(l)?.[1]).filter((r) => r !== undefined);
    assert.deepEqual(rpcs, [
      'AuthService.Register',
      'AuthService.Register',
      'AuthService.Login',
      'AuthService.Refresh',
      'AuthService.Refresh',
      'UserService.GetMe',
      'CircleService.CreateCircle',
      'CircleService.GetCircle',
      'CircleService.CreateInvite',
      'CircleService.JoinCircle',
      'CircleService.ListMyCircles',
      'UserService.GetProfile',
      'UserService.BlockUser',
      'UserService.GetProfile',
    ]);
    assert.match(lines.at(-1) ?? '', /^done/);
    // What the demo printed is what the system holds.
    const { circles } = await result.b.client.circle.listMyCircles({});
    assert.deepEqual(
      circles.map((c) => c.id),
      [result.circleId],
    );
    const hidden = await result.b.client.user.getProfile({ lookup: { case: 'userId', value: result.a.id } }).catch((e: unknown) => ConnectError.from(e));
    assert.ok(hidden instanceof ConnectError);
    assert.equal(hidden.code, Code.NotFound);
  });

  it('runs again against the same system (fresh names every run)', async () => {
    const result = await runDemo({ baseUrl: system.url, print: () => undefined });
    assert.ok(result.circleId);
  });
});
