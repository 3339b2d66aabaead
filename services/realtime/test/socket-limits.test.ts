// How many sockets the gateway holds, against a real host: a user's sockets over the cap
// displace their oldest (newest wins), and sockets not yet welcomed are capped per client address
// and in total, the excess closed at once. Cases are generated: caps, socket counts, source
// addresses and the order of opens, Hellos and closes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ErrorCode } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import type { Host } from '@hearth/platform';
import { type TestDatabase, createRng, createTestDatabase } from '@hearth/testkit';
import {
  type Peer,
  type TokenIssuer,
  assertOpen,
  closedWithin,
  connect,
  errorOf,
  send,
  sleep,
  startGateway,
  startTokenIssuer,
  welcomed,
} from './helpers.js';

const DISPLACED = { code: 4000 + ErrorCode.TOO_MANY_CONNECTIONS, reason: 'TOO_MANY_CONNECTIONS' };
// A client's close reaches the server's close handling a moment after the client sees it; a
// slot is free once the server has handled it.
const SERVER_SEES_CLOSE_MS = 100;

let db: TestDatabase;
let issuer: TokenIssuer;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'realtime_caps' });
  issuer = await startTokenIssuer();
});
afterAll(async () => {
  await issuer.close();
  await db.drop();
});

async function withHost(env: Record<string, string>, fn: (host: Host) => Promise<void>): Promise<void> {
  const host = await startGateway(db.url, env, issuer);
  try {
    await fn(host);
  } finally {
    await host.close();
  }
}

/** The ServerError and close a displaced socket must get. */
async function assertDisplaced(peer: Peer, what: string): Promise<void> {
  const err = errorOf(await peer.next());
  assert.equal(err.code, ErrorCode.TOO_MANY_CONNECTIONS, what);
  assert.equal(err.closing, true, what);
  assert.equal(err.replyTo, 0n, what);
  assert.equal(err.retryAfter?.seconds, 30n, what);
  assert.deepEqual(await closedWithin(peer, 2_000), DISPLACED, what);
}

/** A socket refused before Hello: a ServerError with retry_after, then close 4007 at once. */
async function assertRefused(peer: Peer, what: string): Promise<void> {
  const err = errorOf(await peer.next(1_000));
  assert.equal(err.code, ErrorCode.TOO_MANY_CONNECTIONS, what);
  assert.equal(err.closing, true, what);
  assert.ok(err.retryAfter && err.retryAfter.seconds >= 1n, what);
  assert.deepEqual(await closedWithin(peer, 1_000), DISPLACED, what);
}

describe('sockets per user', () => {
  for (const cap of [1, 2, 4]) {
    it(`with a cap of ${cap}, n sockets of one user leave the newest ${cap} open, displacing the oldest first (n = 1..${cap + 3})`, async () => {
      await withHost({ HEARTH_REALTIME_MAX_CONNECTIONS_PER_USER: String(cap) }, async (host) => {
        // Another user's full set of sockets, which no one else's sockets may displace.
        const bystanderId = randomUUID();
        const bystanders: Peer[] = [];
        for (let i = 0; i < cap; i++) bystanders.push(await welcomed(host.url, issuer.token({ userId: bystanderId })));
        for (let n = 1; n <= cap + 3; n++) {
          const userId = randomUUID();
          const peers: Peer[] = [];
          for (let i = 0; i < n; i++) {
            const peer = await connect(host.url);
            // Each socket its own session, as a user's devices are.
            send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token({ userId }) } }, 1n);
            const { frame } = await peer.next();
            assert.equal(frame.case, 'welcome');
            assert.equal(frame.value.limits?.maxConnectionsPerUser, cap, 'Welcome reports the cap in force');
            peers.push(peer);
            const oldest = peers[i - cap];
            if (oldest) await assertDisplaced(oldest, `n=${n}: socket ${i} displaces socket ${i - cap}`);
          }
          for (const [i, peer] of peers.entries()) {
            if (i < n - cap) assert.ok(peer.isClosed(), `n=${n}: socket ${i} was displaced`);
            else await assertOpen(peer, BigInt(i));
          }
          for (const peer of peers) peer.ws.close();
        }
        for (const [i, b] of bystanders.entries()) await assertOpen(b, BigInt(i));
      });
    });
  }

  it('keeps each user to their newest sockets over generated sequences of opens and closes', async () => {
    const cap = 3;
    await withHost({ HEARTH_REALTIME_MAX_CONNECTIONS_PER_USER: String(cap) }, async (host) => {
      for (let seed = 1; seed <= 4; seed++) {
        const rnd = createRng(seed);
        const users = [randomUUID(), randomUUID(), randomUUID()];
        // Per user, the sockets the model expects open, oldest first.
        const model = new Map<string, Peer[]>(users.map((u) => [u, []]));
        const everyone: Peer[] = [];
        for (let step = 0; step < 30; step++) {
          const user = rnd.pick(users);
          const open = model.get(user) ?? [];
          if (open.length > 0 && rnd.int(4) === 0) {
            const [peer] = open.splice(rnd.int(open.length), 1);
            peer?.ws.close();
            await peer?.closed;
            await sleep(SERVER_SEES_CLOSE_MS);
            continue;
          }
          const peer = await welcomed(host.url, issuer.token({ userId: user }));
          everyone.push(peer);
          open.push(peer);
          if (open.length > cap) await assertDisplaced(open.shift() as Peer, `seed ${seed} step ${step}`);
        }
        const expectedOpen = new Set([...model.values()].flat());
        for (const [i, peer] of everyone.entries()) {
          if (expectedOpen.has(peer)) await assertOpen(peer, BigInt(i));
          else assert.ok(peer.isClosed(), `seed ${seed}: socket ${i} should be closed`);
        }
        for (const peer of expectedOpen) peer.ws.close();
      }
    });
  });

  it('with the defaults, 150 sockets of one user leave 10 open and Welcome says 10', async () => {
    await withHost({}, async (host) => {
      const userId = randomUUID();
      const peers: Peer[] = [];
      for (let i = 0; i < 150; i++) {
        const peer = await connect(host.url);
        send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token({ userId }) } });
        const { frame } = await peer.next();
        assert.equal(frame.case, 'welcome');
        assert.equal(frame.value.limits?.maxConnectionsPerUser, 10);
        peers.push(peer);
      }
      for (const [i, peer] of peers.entries()) {
        if (i < 140) await assertDisplaced(peer, `socket ${i}`);
        else await assertOpen(peer, BigInt(i));
      }
      for (const peer of peers) peer.ws.close();
    });
  });
});

describe('sockets not yet welcomed', () => {
  it('with the defaults, 300 sockets from one address without Hello leave 20 open and close the rest at once', async () => {
    // A Hello timeout far beyond the test: every refusal seen here happened at once.
    await withHost({ HEARTH_REALTIME_HELLO_TIMEOUT_MS: '60000' }, async (host) => {
      const peers: Peer[] = [];
      for (let i = 0; i < 300; i++) peers.push(await connect(host.url));
      for (const [i, peer] of peers.entries()) {
        if (i < 20) await assertOpen(peer, BigInt(i));
        else await assertRefused(peer, `socket ${i}`);
      }
      // A slot freed by a close is free for the next socket.
      peers[0]?.ws.close();
      await sleep(SERVER_SEES_CLOSE_MS);
      const next = await connect(host.url);
      await assertOpen(next, 1n);
      for (const peer of [...peers, next]) peer.ws.close();
    });
  });

  for (const [perAddress, total] of [
    [1, 1],
    [1, 4],
    [2, 5],
    [3, 7],
    [5, 3],
  ] as const) {
    it(`caps ${perAddress} per address and ${total} in all over generated opens, Hellos and closes from 5 addresses`, async () => {
      const env = {
        HEARTH_REALTIME_HELLO_TIMEOUT_MS: '60000',
        HEARTH_REALTIME_MAX_UNAUTHENTICATED_PER_ADDRESS: String(perAddress),
        HEARTH_REALTIME_MAX_UNAUTHENTICATED: String(total),
      };
      await withHost(env, async (host) => {
        const rnd = createRng(perAddress * 100 + total);
        // Loopback answers on all of 127.0.0.0/8, so these are five distinct client addresses.
        const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
        const waiting: Array<{ peer: Peer; address: string }> = [];
        const done: Peer[] = [];
        const outcomes = { admitted: 0, refused: 0 };
        for (let step = 0; step < 60; step++) {
          const action = rnd.int(6);
          if (action === 0 && waiting.length > 0) {
            // Hello: welcomed, the socket no longer counts as waiting.
            const [w] = waiting.splice(rnd.int(waiting.length), 1);
            if (!w) continue;
            send(w.peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token() } });
            assert.equal((await w.peer.next()).frame.case, 'welcome');
            done.push(w.peer);
          } else if (action === 1 && waiting.length > 0) {
            const [w] = waiting.splice(rnd.int(waiting.length), 1);
            w?.peer.ws.close();
            await sleep(SERVER_SEES_CLOSE_MS);
          } else {
            const address = rnd.pick(addresses);
            const expected = waiting.filter((w) => w.address === address).length < perAddress && waiting.length < total;
            const peer = await connect(host.url, { localAddress: address });
            const what = `step ${step}: ${address} with ${waiting.length} waiting`;
            if (expected) {
              await assertOpen(peer, BigInt(step));
              waiting.push({ peer, address });
              outcomes.admitted++;
            } else {
              await assertRefused(peer, what);
              outcomes.refused++;
            }
          }
        }
        assert.ok(outcomes.admitted > 0 && outcomes.refused > 0, `both outcomes were generated: ${JSON.stringify(outcomes)}`);
        for (const p of [...waiting.map((w) => w.peer), ...done]) p.ws.close();
      });
    });
  }

  it('counts a socket whose Hello is still being authenticated as not yet welcomed', async () => {
    await withHost({ HEARTH_REALTIME_MAX_UNAUTHENTICATED_PER_ADDRESS: '3' }, async (host) => {
      // A fresh host fetches the keys on its first Hello; holding the answer holds every Hello.
      issuer.hold();
      const pending: Peer[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const peer = await connect(host.url);
          send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token() } });
          pending.push(peer);
        }
        await assertRefused(await connect(host.url), 'a fourth socket while three Hellos are pending');
      } finally {
        issuer.release();
      }
      for (const peer of pending) assert.equal((await peer.next()).frame.case, 'welcome');
      // Welcomed, they no longer hold the address's slots.
      const more = await Promise.all([0, 1, 2].map(() => connect(host.url)));
      for (const [i, peer] of more.entries()) await assertOpen(peer, BigInt(i));
      for (const peer of [...pending, ...more]) peer.ws.close();
    });
  });
});
