import { Code, ConnectError } from '@connectrpc/connect';
import { type TestRedis, createTestRedis } from '@hearth/testkit';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { addressKey } from '@hearth/platform';
import { type AuthLimits, type AuthLimitsConfig, type LoginKey, createAuthLimits, defaultAuthLimitsConfig } from '../src/limits/index.js';
import { SlidingWindow } from '@hearth/platform';
import { type Cases, cases } from './cases.js';

// The budgets as they ship, and a small set that reaches every budget in a few dozen steps.
const shipped = defaultAuthLimitsConfig;
const small: AuthLimitsConfig = { ...defaultAuthLimitsConfig, loginFailuresPerAccountAddress: 3, loginFailuresPerAccount: 6, loginFailuresPerAddress: 10 };

let testRedis: TestRedis;
let redis: Redis;
beforeAll(async () => {
  testRedis = await createTestRedis();
  redis = new Redis(testRedis.url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await testRedis.flush();
  redis.disconnect();
  await testRedis.close();
});

/** The real limiter on the real Redis, with keys of its own so cases never meet. */
const limiter = (config: AuthLimitsConfig): AuthLimits => createAuthLimits({ config, redis, keyPrefix: `${testRedis.keyPrefix}${randomUUID()}:` });
const email = () => `${randomUUID()}@example.test`;

/**
 * One client as the limiter must see it: the spellings of one address, all of which must count
 * as the same client (an IPv4 address and its IPv4-mapped IPv6 form; addresses of one IPv6 /64).
 */
function client(c: Cases): string[] {
  const [a, b, d] = [c.int(0, 255), c.int(0, 255), c.int(1, 254)];
  if (c.chance(0.5)) return [`10.${a}.${b}.${d}`, `::ffff:10.${a}.${b}.${d}`];
  const prefix = `2001:db8:${a.toString(16)}:${b.toString(16)}`;
  return [`${prefix}::${d.toString(16)}`, `${prefix}:0:ffff:1:${d.toString(16)}`, `${prefix}:a:b:c:d%eth0`];
}

type Outcome = { admitted: true } | { admitted: false; retryAfter: number };

/** One attempt run as the service runs it: the check, then the verdict on the password. */
async function attempt(limits: AuthLimits, key: LoginKey, passwordOk: boolean): Promise<Outcome> {
  try {
    await limits.checkLogin(key);
  } catch (err) {
    assert.ok(err instanceof ConnectError && err.code === Code.ResourceExhausted, String(err));
    return { admitted: false, retryAfter: Number(err.metadata.get('retry-after')) };
  }
  if (passwordOk) await limits.recordLoginSuccess(key);
  else await limits.recordLoginFailure(key);
  return { admitted: true };
}

/** A refusal's wait: the oldest counted failure happened at most `elapsedSec` ago and leaves a window (plus at most one bucket) after it. */
function assertWait(outcome: Outcome, windowSec: number, elapsedSec: number, context: string): void {
  assert.equal(outcome.admitted, false, `${context}: expected a refusal`);
  if (outcome.admitted) return;
  const { retryAfter } = outcome;
  assert.ok(Number.isInteger(retryAfter), `${context}: retry-after ${retryAfter}`);
  assert.ok(retryAfter >= windowSec - elapsedSec - 1 && retryAfter <= SlidingWindow.storeDurationSec(windowSec), `${context}: retry-after ${retryAfter}`);
}

describe('client addresses', () => {
  it('one key per IPv4 address and per IPv6 /64, whatever the spelling', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::FFFF:c000:207'), '192.0.2.7');
    assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.7'), '64:ff9b:0:0::/64');
    assert.notEqual(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
    assert.equal(addressKey(''), '');
    const c = cases();
    for (let i = 0; i < 50; i++) {
      const spellings = client(c);
      assert.equal(new Set(spellings.map(addressKey)).size, 1, `seed ${c.seed}: ${spellings.join(' ')}`);
    }
  });
});

describe('sign-in budgets, generated cases (real limiter, real Redis)', () => {
  for (let run = 0; run < 2; run++) {
    const c = cases();
    it(`many accounts behind one address, a few typos each, all still sign in, even beside a locked-out neighbour (seed ${c.seed})`, async () => {
      const limits = limiter(shipped);
      const spellings = client(c);
      const at = () => c.pick(spellings);
      const people = c.int(10, 30);
      // One person gets locked out from this address, and keeps trying.
      const lockedTries = c.int(shipped.loginFailuresPerAccountAddress + 1, 15);
      // Everyone else: fewer typos than their own budget, and all of them together (with one
      // attempt each in flight at once) within the address's.
      const room = shipped.loginFailuresPerAddress - shipped.loginFailuresPerAccountAddress - people - 1;
      const typos = Array.from({ length: people }, () => c.int(0, shipped.loginFailuresPerAccountAddress - 1));
      while (typos.reduce((a, b) => a + b, 0) > room) typos[c.int(0, people - 1)] = 0;

      const locked = email();
      const lockedOutcomes: Outcome[] = [];
      const lockedOut = (async () => {
        for (let i = 0; i < lockedTries; i++) lockedOutcomes.push(await attempt(limits, { email: locked, ip: at() }, false));
      })();
      // Everyone at once, each one's attempts in order: typos, then the right password.
      const outcomes = await Promise.all(
        typos.map(async (n) => {
          const who = email();
          const mine: Outcome[] = [];
          for (let i = 0; i <= n; i++) mine.push(await attempt(limits, { email: who, ip: at() }, i === n));
          return mine;
        }),
      );
      await lockedOut;
      for (const [i, mine] of outcomes.entries()) {
        assert.ok(
          mine.every((o) => o.admitted),
          `person ${i} (${typos[i]} typos) was refused: ${JSON.stringify(mine)}`,
        );
      }
      assert.equal(lockedOutcomes.filter((o) => o.admitted).length, shipped.loginFailuresPerAccountAddress, JSON.stringify(lockedOutcomes));
      assert.equal(lockedOutcomes.at(-1)?.admitted, false);
    });

    const d = cases();
    it(`an attacker spraying one password over many accounts from one address runs into the address budget (seed ${d.seed})`, async () => {
      const limits = limiter(shipped);
      const started = Date.now();
      const spellings = client(d);
      const victims = Array.from({ length: d.int(shipped.loginFailuresPerAddress + 1, 140) }, email);
      // Sequential and in bursts of parallel guesses: never more than the budget gets through.
      const outcomes: Outcome[] = [];
      for (let i = 0; i < victims.length; ) {
        const burst = victims.slice(i, (i += d.int(1, 12)));
        outcomes.push(...(await Promise.all(burst.map((v) => attempt(limits, { email: v, ip: d.pick(spellings) }, false)))));
      }
      const admitted = outcomes.filter((o) => o.admitted).length;
      assert.ok(admitted >= 1 && admitted <= shipped.loginFailuresPerAddress, `${admitted} guesses got through`);
      // Topped up to the budget exactly, sequentially: then every further guess is refused for the window.
      for (let i = admitted; i < shipped.loginFailuresPerAddress; i++) assert.ok((await attempt(limits, { email: email(), ip: d.pick(spellings) }, false)).admitted);
      const elapsed = (Date.now() - started) / 1000;
      for (let i = 0; i < 5; i++) {
        assertWait(await attempt(limits, { email: email(), ip: d.pick(spellings) }, false), shipped.loginWindowSec, elapsed, 'spray');
      }
      // The sprayed accounts themselves, and everyone elsewhere, are untouched.
      const elsewhere = client(d);
      for (const v of d.shuffle(victims).slice(0, 5)) assert.ok((await attempt(limits, { email: v, ip: d.pick(elsewhere) }, true)).admitted);
    });

    const e = cases();
    it(`an account guessed at from many addresses is locked everywhere, its owner included (seed ${e.seed})`, async () => {
      const limits = limiter(shipped);
      const started = Date.now();
      const victim = email();
      const addresses = Array.from({ length: e.int(3, 12) }, () => client(e));
      // Each address stops at its own budget for the account, the account at its own in all.
      const fromEach = new Map<number, number>();
      let admitted = 0;
      for (let i = 0; i < 30; i++) {
        const where = e.int(0, addresses.length - 1);
        const mine = fromEach.get(where) ?? 0;
        const expected = mine < shipped.loginFailuresPerAccountAddress && admitted < shipped.loginFailuresPerAccount;
        const outcome = await attempt(limits, { email: victim, ip: e.pick(addresses[where] ?? []) }, false);
        assert.equal(outcome.admitted, expected, `guess ${i} from address ${where}: ${JSON.stringify(outcome)}`);
        if (!outcome.admitted) continue;
        admitted++;
        fromEach.set(where, mine + 1);
      }
      if (admitted === shipped.loginFailuresPerAccount) {
        const owner = { email: victim, ip: e.pick(client(e)) };
        assertWait(await attempt(limits, owner, true), shipped.loginWindowSec, (Date.now() - started) / 1000, 'owner');
      }
      // Other accounts on the attackers' addresses are not refused.
      assert.ok((await attempt(limits, { email: email(), ip: e.pick(e.pick(addresses)) }, true)).admitted);
    });
  }

  for (const [name, config, runs] of [
    ['small', small, 3],
    ['shipped', shipped, 1],
  ] as const) {
    for (let run = 0; run < runs; run++) {
      const c = cases();
      it(`every decision matches a model of the three budgets (${name} budgets, seed ${c.seed})`, async () => {
        const limits = limiter(config);
        const started = Date.now();
        const accounts = Array.from({ length: c.int(2, 6) }, email);
        const clients = Array.from({ length: c.int(1, 4) }, () => client(c));
        const failures = { account: new Map<string, number>(), pair: new Map<string, number>(), address: new Map<number, number>() };
        const get = <K>(m: Map<K, number>, k: K) => m.get(k) ?? 0;
        const steps = name === 'small' ? c.int(40, 80) : c.int(150, 260);
        for (let step = 0; step < steps; step++) {
          const who = c.pick(accounts);
          const where = c.int(0, clients.length - 1);
          const right = c.chance(0.15);
          const pair = `${who}@${where}`;
          const expected =
            get(failures.account, who) < config.loginFailuresPerAccount &&
            get(failures.pair, pair) < config.loginFailuresPerAccountAddress &&
            get(failures.address, where) < config.loginFailuresPerAddress;
          const outcome = await attempt(limits, { email: who, ip: c.pick(clients[where] ?? []) }, right);
          const context = `step ${step}: ${right ? 'right' : 'wrong'} password, account ${accounts.indexOf(who)}, client ${where}`;
          if (!expected) {
            assertWait(outcome, config.loginWindowSec, (Date.now() - started) / 1000, context);
            continue;
          }
          assert.ok(outcome.admitted, `${context}: refused ${JSON.stringify(outcome)} ${JSON.stringify([...failures.pair])}`);
          if (right) {
            failures.account.delete(who);
            failures.pair.delete(pair);
          } else {
            failures.account.set(who, get(failures.account, who) + 1);
            failures.pair.set(pair, get(failures.pair, pair) + 1);
            failures.address.set(where, get(failures.address, where) + 1);
          }
        }
      });
    }
  }
});
