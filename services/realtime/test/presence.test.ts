// Presence across gateways as a pure unit: several PresenceBoards on a model bus (in order, as
// Redis pub/sub delivers, sometimes losing an event), over generated sequences of subscriptions
// coming and going, gateways crashing and time passing. Once the bus is quiet and the leases
// have run, every gateway's announcements agree with the truth, and none repeats itself.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { createRng } from '@hearth/testkit';
import { PRESENCE_BATCH, PresenceBoard, type PresenceEvent } from '../src/gateway/presence.js';

const TIMING = { refreshMs: 20_000, leaseMs: 65_000 };

interface Gateway {
  readonly id: string;
  board: PresenceBoard;
  /** circle -> user -> sockets, the truth. */
  held: Map<string, Map<string, number>>;
  /** `${circle}/${user}` -> what was last announced (true: online). */
  shown: Map<string, boolean>;
  alive: boolean;
}

function world(seed: number) {
  const rnd = createRng(seed);
  let clock = 1_000_000;
  const queue: PresenceEvent[] = [];
  const gateways: Gateway[] = [];
  let n = 0;
  const start = (): Gateway => {
    const g: Gateway = { id: `g${n++}`, board: undefined as never, held: new Map(), shown: new Map(), alive: true };
    g.board = new PresenceBoard(
      g.id,
      (e) => queue.push(e),
      (circle, user, online) => {
        const key = `${circle}/${user}`;
        assert.notEqual(g.shown.get(key) ?? false, online, `seed ${seed}: ${g.id} announced ${key} ${online ? 'online' : 'offline'} twice`);
        g.shown.set(key, online);
      },
      TIMING,
      () => clock,
    );
    gateways.push(g);
    g.board.ask();
    return g;
  };
  const deliver = (lossy: boolean) => {
    const e = queue.shift();
    if (!e || (lossy && rnd.chance(0.1))) return;
    for (const g of gateways) if (g.alive) g.board.onEvent(e);
  };
  const tick = () => {
    clock += TIMING.refreshMs;
    for (const g of gateways) {
      if (!g.alive) continue;
      g.board.expire();
      g.board.refresh();
    }
  };
  return { rnd, gateways, start, deliver, tick, queue };
}

const truth = (gateways: readonly Gateway[], circle: string, user: string) =>
  gateways.some((g) => g.alive && (g.held.get(circle)?.get(user) ?? 0) > 0);

describe('PresenceBoard', () => {
  it('agrees across gateways with who holds a subscribed socket, after losses, crashes and expiry (400 generated runs)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const w = world(seed);
      // A third of the runs lose events, a quarter crash gateways; the rest only reorder nothing.
      const lossy = seed % 3 === 0;
      const crashes = seed % 4 === 1;
      const circles = ['c1', 'c2', 'c3'].slice(0, 1 + w.rnd.int(3));
      const users = ['u1', 'u2', 'u3', 'u4'].slice(0, 1 + w.rnd.int(4));
      const count = 2 + w.rnd.int(3);
      for (let i = 0; i < count; i++) w.start();
      let crashed = false;
      for (let step = 0; step < 150; step++) {
        const live = w.gateways.filter((g) => g.alive);
        const g = w.rnd.pick(live);
        const circle = w.rnd.pick(circles);
        const user = w.rnd.pick(users);
        const r = w.rnd.float();
        if (r < 0.3) {
          const m = g.held.get(circle) ?? new Map<string, number>();
          g.held.set(circle, m.set(user, (m.get(user) ?? 0) + 1));
          g.board.add(circle, user);
        } else if (r < 0.55) {
          const m = g.held.get(circle);
          const c = m?.get(user) ?? 0;
          if (c > 0) {
            m!.set(user, c - 1);
            g.board.remove(circle, user);
          }
        } else if (r < 0.9) {
          w.deliver(lossy);
        } else if (r < 0.96) {
          w.tick();
        } else if (crashes && live.length > 1) {
          // kill -9: its sockets and board are gone, no offline is ever published; a new one starts.
          g.alive = false;
          crashed = true;
          w.start();
        }
        // What a gateway holds itself is announced at once.
        for (const x of w.gateways) {
          if (!x.alive) continue;
          for (const [c, m] of x.held) for (const [u, k] of m) if (k > 0) assert.equal(x.shown.get(`${c}/${u}`), true, `seed ${seed}: own socket shown online`);
        }
      }
      const agree = (when: string) => {
        for (const g of w.gateways.filter((x) => x.alive)) {
          for (const circle of circles) {
            for (const user of users) {
              const want = truth(w.gateways, circle, user);
              const at = `seed ${seed} ${when}: ${g.id}`;
              assert.equal(g.shown.get(`${circle}/${user}`) ?? false, want, `${at} shows ${circle}/${user}`);
              assert.equal(g.board.isOnline(circle, user), want, `${at} knows ${circle}/${user}`);
              assert.equal(g.board.onlineIn(circle).includes(user), want, `${at} lists ${circle}/${user}`);
            }
          }
        }
      };
      // Quiet: the bus drains. With nothing lost and nobody crashed, that is enough.
      while (w.queue.length > 0) w.deliver(false);
      if (!lossy && !crashed) agree('once the bus drained');
      // Otherwise a few refresh periods pass with nothing lost, and the leases settle it.
      for (let round = 0; round < 5; round++) {
        w.tick();
        while (w.queue.length > 0) w.deliver(false);
      }
      agree('after the leases ran');
    }
  });

  it('splits a refresh of a large circle into events of at most the batch size', () => {
    const events: PresenceEvent[] = [];
    const board = new PresenceBoard('g', (e) => events.push(e), () => undefined, TIMING);
    for (let i = 0; i < 2 * PRESENCE_BATCH + 5; i++) board.add('c', `u${i}`);
    events.length = 0;
    board.refresh();
    assert.deepEqual(
      events.map((e) => e.userIds.length),
      [PRESENCE_BATCH, PRESENCE_BATCH, 5],
    );
    assert.ok(events.every((e) => e.kind === 'refresh' && e.circleId === 'c'));
  });
});
