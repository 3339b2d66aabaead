import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type TcpProxy, startTcpProxy } from '@hearth/testkit';
import { SEED_PASSWORD, type TestSystem, startTestSystem } from '@hearth/testkit/system';
import { randomUUID } from 'node:crypto';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => Code[ConnectError.from(e).code]);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function until(what: string, pred: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const newCircle = () => ({ name: 'Night owls', description: '', guidelines: '', visibility: CircleVisibility.PUBLIC, memberCap: 0, idempotencyKey: randomUUID() });

describe('Redis goes away: service degrades, it does not stall', () => {
  let proxy: TcpProxy;
  let sys: TestSystem<'auth' | 'user' | 'circle'>;
  beforeAll(async () => {
    proxy = await startTcpProxy();
    sys = await startTestSystem({ services: ['auth', 'user', 'circle'], through: { redis: (url) => proxy.rewrite(url) } });
  });
  afterAll(async () => {
    await sys?.close();
    await proxy?.close();
  });

  it('answers writes in under 100 ms (median) while Redis is down, and uses it again as soon as it is back', async () => {
    const alice = await sys.seed.person({ name: 'alice' });
    for (let i = 0; i < 5; i++) await sys.circle.createCircle(newCircle(), alice.call);
    proxy.cut();
    await until('the breaker to open', () => sys.host.runtime.redis?.available === false);
    const writes: number[] = [];
    for (let i = 0; i < 15; i++) {
      const { ms, value } = await timed(() => sys.circle.createCircle(newCircle(), alice.call));
      assert.ok(value.circle?.id);
      writes.push(ms);
    }
    assert.ok(median(writes) < 100, `median CreateCircle with Redis down: ${median(writes).toFixed(1)} ms (${writes.map((w) => w.toFixed(0)).join(', ')})`);
    const { value: got } = await timed(() => sys.circle.listMyCircles({}, alice.call));
    assert.ok(got.circles.length >= 20);
    proxy.restore();
    await until('Redis to be used again', () => sys.host.runtime.redis?.available === true, 8_000);
  });
});

describe('Postgres goes away: every RPC answers Unavailable, and sign-in is not counted against anyone', () => {
  let proxy: TcpProxy;
  let sys: TestSystem<'auth' | 'user' | 'circle'>;
  beforeAll(async () => {
    proxy = await startTcpProxy();
    sys = await startTestSystem({
      services: ['auth', 'user', 'circle'],
      through: { postgres: (url) => proxy.rewrite(url) },
      // Fail fast when the database does not answer, as an operator would set it.
      env: { HEARTH_DB_CONNECT_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(async () => {
    proxy?.restore();
    await sys?.close();
    await proxy?.close();
  });

  it('Login, Refresh and signed-in calls answer Unavailable while it is down; the right password works the moment it is back', async () => {
    const bob = await sys.seed.account({ name: 'bob' });
    const circle = await sys.seed.circle(bob);
    proxy.cut();
    for (let i = 0; i < 8; i++) {
      assert.equal(
        await codeOf(sys.auth.login({ email: bob.email, password: SEED_PASSWORD, deviceName: 't', tokenDelivery: TokenDelivery.BODY })),
        'Unavailable',
        `login ${i}`,
      );
    }
    assert.equal(await codeOf(sys.auth.refresh({ refreshToken: bob.refreshToken ?? '', tokenDelivery: TokenDelivery.BODY })), 'Unavailable');
    assert.equal(await codeOf(sys.circle.createCircle(newCircle(), bob.call)), 'Unavailable');
    assert.equal(await codeOf(sys.user.getMe({}, bob.call)), 'Unavailable');
    const ready = await fetch(`${sys.url}/health/ready`);
    assert.equal(ready.status, 503);
    proxy.restore();
    await until('Postgres to answer', async () => (await fetch(`${sys.url}/health/ready`)).status === 200);
    const login = await sys.auth.login({ email: bob.email, password: SEED_PASSWORD, deviceName: 't', tokenDelivery: TokenDelivery.BODY });
    assert.ok(login.tokens?.accessToken, 'the outage counted no failed sign-in');
    const again = await sys.circle.getCircle({ circleId: circle.id }, bob.call);
    assert.equal(again.circle?.id, circle.id);
  });
});
