import { Code, ConnectError } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { ensurePostgres } from '@hearth/testkit';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { cases } from './cases.js';
import { type TestAuth, bearer, newUser, startAuth } from './helpers.js';

/** What a database outage may answer: never a verdict on the password, never a refusal. */
const OUTAGE_CODES: ReadonlySet<Code> = new Set([Code.Internal, Code.Unavailable, Code.DeadlineExceeded]);
const WRONG = 'definitely not the password';

async function code(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

// The limiter's own behaviour is in limits*.test.ts; this is the reported outage end to end: the
// real service with its real limiter (Redis), and its real database taken away.
describe('sign-in limits end to end, across database outages', () => {
  let t: TestAuth;
  let admin: pg.Client;
  let database: string;
  beforeAll(async () => {
    // A statement waits at most a second, so a stuck database answers within the test.
    t = await startAuth({ limits: 'real', env: { HEARTH_DB_STATEMENT_TIMEOUT_MS: '1000' } });
    database = new URL(t.config.database.url).pathname.slice(1);
    admin = new pg.Client({ connectionString: (await ensurePostgres()).url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.query(`alter database "${database}" allow_connections true`).catch(() => undefined);
    await admin?.end();
    await t?.close();
  });

  /** The database gone: every connection ended, and no new one accepted, while `during` runs. */
  async function gone(during: () => Promise<void>): Promise<void> {
    await admin.query(`alter database "${database}" allow_connections false`);
    // Waits for each backend to end, then lets the pools see it, so no stale connection is left
    // to fail the first call after the outage.
    await admin.query('select pg_terminate_backend(pid, 5000) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
    await sleep(200);
    try {
      await during();
    } finally {
      await admin.query(`alter database "${database}" allow_connections true`);
    }
  }

  /** The database stuck: the accounts table locked, so a sign-in's lookup times out. */
  async function stuck(during: () => Promise<void>): Promise<void> {
    const locker = new pg.Client({ connectionString: t.config.database.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table auth.accounts in access exclusive mode');
      await during();
    } finally {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
    }
  }

  const runs = [{ seed: undefined, fixed: { typos: 0, outage: 'gone' as const, attempts: 8 } }, ...Array.from({ length: 3 }, () => ({ seed: cases().seed, fixed: undefined }))];
  for (const run of runs) {
    const c = cases(run.seed);
    const typos = run.fixed?.typos ?? c.int(0, 4);
    const outage = run.fixed?.outage ?? c.pick(['gone', 'stuck'] as const);
    const attempts = run.fixed?.attempts ?? (outage === 'gone' ? c.int(5, 12) : c.int(2, 4));
    it(`${typos} typos, then ${attempts} sign-ins while the database is ${outage}: none counted, the right password works at once (seed ${c.seed})`, async () => {
      const user = newUser();
      await t.client.register(user);
      const login = (password: string) => t.client.login({ email: user.email, password, deviceName: 'test', tokenDelivery: TokenDelivery.BODY });
      for (let i = 0; i < typos; i++) assert.equal(await code(login(WRONG)), Code.Unauthenticated);

      await (outage === 'gone' ? gone : stuck)(async () => {
        // Right and wrong passwords alike, one by one and all at once, as retrying clients do.
        const passwords = Array.from({ length: attempts }, () => (c.chance(0.5) ? user.password : WRONG));
        const split = c.int(0, attempts);
        const codes: Array<Code | 'ok'> = [];
        for (const p of passwords.slice(0, split)) codes.push(await code(login(p)));
        codes.push(...(await Promise.all(passwords.slice(split).map((p) => code(login(p))))));
        for (const got of codes) assert.ok(got !== 'ok' && OUTAGE_CODES.has(got), `during the outage: ${String(got)}`);
      });

      // Straight away (a reservation left behind would refuse for its whole life): the rest of
      // the budget is still there, and then the right password signs in.
      for (let i = typos; i < 4; i++) assert.equal(await code(login(WRONG)), Code.Unauthenticated, `typo ${i + 1} after the outage`);
      assert.equal(await code(login(user.password)), 'ok');
    });
  }

  it('a right current password in ChangePassword ends its attempt too', async () => {
    const user = newUser();
    const { tokens } = await t.client.register(user);
    const passwords = [user.password, 'quartz meadow lantern 77', 'copper harbor violet 31'];
    // More changes than the attempts one account may have in flight: none may stay reserved.
    for (let i = 0; i < 7; i++) {
      const [currentPassword = '', newPassword = ''] = [passwords[i % 3], passwords[(i + 1) % 3]];
      await t.client.changePassword({ currentPassword, newPassword }, bearer(tokens?.accessToken ?? ''));
    }
    const login = await code(t.client.login({ email: user.email, password: passwords[7 % 3] ?? '', deviceName: 'test', tokenDelivery: TokenDelivery.BODY }));
    assert.equal(login, 'ok');
  });

  it('per-account lockout still happens after an outage', async () => {
    const user = newUser();
    await t.client.register(user);
    const login = (password: string) => t.client.login({ email: user.email, password, deviceName: 'test', tokenDelivery: TokenDelivery.BODY });
    await gone(async () => {
      assert.ok(OUTAGE_CODES.has((await code(login(WRONG))) as Code));
    });
    for (let i = 0; i < 5; i++) assert.equal(await code(login(WRONG)), Code.Unauthenticated);
    assert.equal(await code(login(user.password)), Code.ResourceExhausted);
  });
});
