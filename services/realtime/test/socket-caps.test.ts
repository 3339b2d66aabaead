// The socket caps as a pure unit, checked against a plain model over generated sequences of
// opens, Hellos and closes, and the address key over generated IPv4 and IPv6 spellings.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { addressKey } from '@hearth/platform';
import { type Displaceable, type SocketLease, SocketCaps } from '../src/gateway/socket-caps.js';
import { type Rng, createRng } from '@hearth/testkit';

interface Sock extends Displaceable {
  readonly n: number;
  readonly address: string;
  lease: SocketLease;
  state: 'unauthenticated' | 'authenticated' | 'closed';
  user?: string;
  /** When it was welcomed, for the model's "oldest". */
  welcomedAt?: number;
  displaced: boolean;
}

describe('SocketCaps', () => {
  it('matches the model: per-address and total unwelcomed caps, newest-wins per-user cap', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = createRng(seed);
      const opts = { maxConnectionsPerUser: 1 + rnd.int(4), maxUnauthenticatedPerAddress: 1 + rnd.int(4), maxUnauthenticated: 1 + rnd.int(8) };
      const caps = new SocketCaps(opts);
      const addresses = ['10.0.0.1', '10.0.0.2', '2001:db8::1', '2001:db8::2', '2001:db8:0:1::1'].slice(0, 1 + rnd.int(5));
      const users = ['u1', 'u2', 'u3'].slice(0, 1 + rnd.int(3));
      const socks: Sock[] = [];
      let clock = 0;
      const live = (s: Sock) => s.state !== 'closed';
      const ctx = () => `seed ${seed} ${JSON.stringify(opts)}`;
      for (let step = 0; step < 80; step++) {
        const action = rnd.int(3);
        if (action === 0) {
          const address = rnd.pick(addresses);
          const key = addressKey(address);
          const pending = socks.filter((s) => s.state === 'unauthenticated');
          const expected =
            pending.filter((s) => addressKey(s.address) === key).length < opts.maxUnauthenticatedPerAddress &&
            pending.length < opts.maxUnauthenticated;
          const admission = caps.admit(address);
          assert.equal(admission.admitted, expected, `${ctx()} step ${step}: admit ${address}`);
          if (admission.admitted) {
            const sock: Sock = {
              n: socks.length,
              address,
              lease: admission.lease,
              state: 'unauthenticated',
              displaced: false,
              displace() {
                // What Connection.displace does: it closes, releasing its lease.
                this.displaced = true;
                this.state = 'closed';
                this.lease.release();
              },
            };
            socks.push(sock);
          } else {
            assert.equal(admission.scope, pending.filter((s) => addressKey(s.address) === key).length >= opts.maxUnauthenticatedPerAddress ? 'address' : 'process');
          }
        } else if (action === 1) {
          const pending = socks.filter((s) => s.state === 'unauthenticated');
          if (pending.length === 0) continue;
          const sock = rnd.pick(pending);
          const user = rnd.pick(users);
          const mine = socks.filter((s) => s.state === 'authenticated' && s.user === user).sort((a, b) => (a.welcomedAt ?? 0) - (b.welcomedAt ?? 0));
          const expectDisplaced = mine.slice(0, Math.max(0, mine.length + 1 - opts.maxConnectionsPerUser));
          sock.state = 'authenticated';
          sock.user = user;
          sock.welcomedAt = clock++;
          const displaced = sock.lease.authenticate(user, sock);
          assert.deepEqual(
            displaced.map((d) => (d as Sock).n),
            expectDisplaced.map((s) => s.n),
            `${ctx()} step ${step}: the oldest are displaced, oldest first`,
          );
          for (const d of displaced) d.displace();
        } else {
          const open = socks.filter(live);
          if (open.length === 0) continue;
          const sock = rnd.pick(open);
          sock.state = 'closed';
          sock.lease.release();
          // A second release (close after error) changes nothing.
          sock.lease.release();
        }
        const counts = caps.counts();
        assert.equal(counts.unauthenticated, socks.filter((s) => s.state === 'unauthenticated').length, `${ctx()} step ${step}`);
        assert.equal(counts.authenticated, socks.filter((s) => s.state === 'authenticated').length, `${ctx()} step ${step}`);
        for (const user of users) {
          assert.ok(socks.filter((s) => s.state === 'authenticated' && s.user === user).length <= opts.maxConnectionsPerUser);
        }
      }
      for (const s of socks.filter(live)) s.lease.release();
      assert.deepEqual(caps.counts(), { unauthenticated: 0, addresses: 0, users: 0, authenticated: 0 }, `${ctx()}: nothing leaks`);
    }
  });

  it('refuses to authenticate a lease twice or after release', () => {
    const caps = new SocketCaps({ maxConnectionsPerUser: 2, maxUnauthenticatedPerAddress: 2, maxUnauthenticated: 2 });
    const admission = caps.admit('10.0.0.1');
    assert.ok(admission.admitted);
    const sock = { displace: () => undefined };
    admission.lease.authenticate('u', sock);
    assert.throws(() => admission.lease.authenticate('u', sock));
    admission.lease.release();
    assert.throws(() => admission.lease.authenticate('u', sock));
  });
});

describe('addressKey', () => {
  const hex = (rnd: Rng) => rnd.int(0x10000).toString(16);
  /** Another valid spelling of the same address: upper case, leading zeros, :: at another run. */
  function respell(groups: readonly string[], rnd: Rng): string {
    const parts = groups.map((g) => {
      const padded = rnd.int(2) ? g.padStart(4, '0') : g;
      return rnd.int(2) ? padded.toUpperCase() : padded;
    });
    const zeroRuns: Array<[number, number]> = [];
    for (let i = 0; i < 8; i++) {
      if (groups[i] !== '0') continue;
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      zeroRuns.push([i, j]);
      i = j;
    }
    if (zeroRuns.length === 0 || rnd.int(3) === 0) return parts.join(':');
    const [from, to] = rnd.pick(zeroRuns);
    return `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
  }

  it('keys an IPv6 address by its /64, however it is spelled', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const rnd = createRng(seed);
      // Zeros are common in real addresses, so each group is 0 half the time.
      const groups = Array.from({ length: 8 }, () => (rnd.int(2) ? '0' : hex(rnd)));
      const key = addressKey(respell(groups, rnd));
      assert.equal(key, `${groups.slice(0, 4).join(':')}::/64`, `seed ${seed}: ${groups.join(':')}`);
      const sameNet = [...groups.slice(0, 4), ...Array.from({ length: 4 }, () => hex(rnd))];
      assert.equal(addressKey(respell(sameNet, rnd)), key, `seed ${seed}: same /64`);
      const otherNet = [...groups];
      otherNet[3] = ((parseInt(groups[3] ?? '0', 16) + 1 + rnd.int(0xfffe)) % 0x10000).toString(16);
      assert.notEqual(addressKey(respell(otherNet, rnd)), key, `seed ${seed}: another /64`);
      assert.equal(addressKey(`${respell(groups, rnd)}%eth0`), key, `seed ${seed}: zone ids are ignored`);
    }
  });

  it('keys IPv4 by the address, also when a dual-stack listener maps it into IPv6', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = createRng(seed);
      const v4 = Array.from({ length: 4 }, () => rnd.int(256)).join('.');
      assert.equal(addressKey(v4), v4);
      assert.equal(addressKey(`::ffff:${v4}`), v4);
      assert.equal(addressKey(`::FFFF:${v4}`), v4);
    }
    // An IPv4 tail in a non-mapped IPv6 address (NAT64) belongs to that address's /64.
    assert.equal(addressKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey(''), '');
  });
});
