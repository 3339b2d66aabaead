import { dbAt } from './helpers.js';
import type { Database } from '@hearth/db';
import type { EventBus, Topic } from '@hearth/db';
import { type TestDatabase, createTestDatabase, freePort } from '@hearth/testkit';
import { sql } from 'kysely';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  DENY_LIST_GRACE_MS,
  PostgresSessionDenyList,
  ReplicatedSessionDenyList,
  createSessionDenyList,
  migrateAuthz,
} from '../src/index.js';

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

let testDb: TestDatabase;
let db: Database<unknown>;


beforeAll(async () => {
  testDb = await createTestDatabase({ prefix: 'authz' });
  db = dbAt(testDb.url);
  assert.deepEqual((await migrateAuthz(db)).applied, ['2026_11_23_0001_revoked_sessions', '2026_11_30_0001_revoke_time']);
  assert.deepEqual((await migrateAuthz(db)).applied, [], 'idempotent');
});
afterAll(async () => {
  await db.destroy();
  await testDb.drop();
});

describe('PostgresSessionDenyList', () => {
  it('denies a revoked session and nothing else; the table is found whatever the search_path', async () => {
    const list = new PostgresSessionDenyList(db);
    const sid = randomUUID();
    assert.equal(await list.isRevoked(sid), false);
    await list.revoke(sid, minutes(15));
    assert.equal(await list.isRevoked(sid), true);
    assert.equal(await list.isRevoked(randomUUID()), false);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from authz.revoked_sessions where session_id = ${sid}`.execute(db.db);
    assert.equal(rows[0]?.n, 1);
  });

  it('keeps the latest expiry when revoked twice', async () => {
    const list = new PostgresSessionDenyList(db);
    const sid = randomUUID();
    const later = minutes(30);
    await list.revoke(sid, later);
    await list.revoke(sid, minutes(-30));
    assert.equal(await list.isRevoked(sid), true);
    const entry = (await list.revokedSince(new Date(0))).entries.find((e) => e.sessionId === sid);
    assert.equal(entry?.until.getTime(), later.getTime());
  });

  it('ignores entries past their expiry plus the grace, and purges old ones', async () => {
    const list = new PostgresSessionDenyList(db);
    const withinGrace = randomUUID();
    const expired = randomUUID();
    const old = randomUUID();
    await list.revoke(withinGrace, new Date(Date.now() - DENY_LIST_GRACE_MS / 2));
    await list.revoke(expired, new Date(Date.now() - DENY_LIST_GRACE_MS - 1_000));
    await sql`insert into authz.revoked_sessions (session_id, until) values (${old}, now() - interval '2 hours')`.execute(db.db);
    assert.equal(await list.isRevoked(withinGrace), true, 'a token accepted under clock skew is still denied');
    assert.equal(await list.isRevoked(expired), false);
    assert.equal(await list.isRevoked(old), false);
    assert.equal(await list.purgeExpired(), 1, 'only the row expired more than an hour ago');
    assert.equal(await list.purgeExpired(), 0);
  });

  it('purges opportunistically on revoke, at most once per interval', async () => {
    const list = new PostgresSessionDenyList(db, { purgeEveryMs: 60_000 });
    const count = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from authz.revoked_sessions where until < now() - interval '1 hour'`.execute(db.db))
        .rows[0]?.n;
    await sql`insert into authz.revoked_sessions (session_id, until) values (${randomUUID()}, now() - interval '3 hours')`.execute(db.db);
    await list.revoke(randomUUID(), minutes(15));
    assert.equal(await count(), 0);
    await sql`insert into authz.revoked_sessions (session_id, until) values (${randomUUID()}, now() - interval '3 hours')`.execute(db.db);
    await list.revoke(randomUUID(), minutes(15));
    assert.equal(await count(), 1, 'not again within purgeEveryMs');
  });
});


/** One bus between several "processes" of this test, losing events on demand. */
function memoryBus(): EventBus & { dropping: boolean } {
  const handlers = new Map<string, Set<(p: unknown) => void>>();
  const bus = {
    dropping: false,
    async publish<T>(topic: Topic<T>, payload: T) {
      if (bus.dropping) return;
      for (const h of handlers.get(topic.name) ?? []) h(topic.payload.parse(JSON.parse(JSON.stringify(payload))));
    },
    subscribe<T>(topic: Topic<T>, handler: (payload: T) => void) {
      const set = handlers.get(topic.name) ?? new Set();
      handlers.set(topic.name, set);
      set.add(handler as (p: unknown) => void);
      return () => void set.delete(handler as (p: unknown) => void);
    },
    onReconnect: () => () => undefined,
    async close() {},
  };
  return bus;
}

describe('ReplicatedSessionDenyList (a copy in every process)', () => {
  const replica = (bus: EventBus | undefined, syncIntervalMs = 60_000, now?: () => number) =>
    new ReplicatedSessionDenyList({ record: new PostgresSessionDenyList(db), bus, syncIntervalMs, ...(now ? { now } : {}) });

  it('a revocation in one process is refused by every other at once (over the bus), and by a new one from Postgres', async () => {
    const bus = memoryBus();
    const processes = [replica(bus), replica(bus), replica(bus)];
    for (const p of processes) await p.start();
    try {
      const sids = Array.from({ length: 20 }, () => randomUUID());
      for (const [i, sid] of sids.entries()) {
        await (processes[i % processes.length] as ReplicatedSessionDenyList).revoke(sid, minutes(15));
        for (const p of processes) assert.equal(await p.isRevoked(sid), true, `revocation ${i} seen by every process`);
      }
      const late = replica(undefined);
      await late.start();
      for (const sid of sids) assert.equal(await late.isRevoked(sid), true, 'loaded from the record');
      assert.equal(await late.isRevoked(randomUUID()), false);
      late.stop();
    } finally {
      for (const p of processes) p.stop();
    }
  });

  it('catches up with revocations whose bus events were lost, within one sync interval', async () => {
    const bus = memoryBus();
    const writer = replica(bus, 100);
    const reader = replica(bus, 100);
    await writer.start();
    await reader.start();
    try {
      bus.dropping = true;
      const sids = Array.from({ length: 10 }, () => randomUUID());
      for (const sid of sids) await writer.revoke(sid, minutes(15));
      const deadline = Date.now() + 5_000;
      for (const sid of sids) {
        while (!(await reader.isRevoked(sid))) {
          assert.ok(Date.now() < deadline, 'the sync must bring every lost revocation');
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    } finally {
      writer.stop();
      reader.stop();
    }
  });

  it('keeps the latest expiry and forgets an entry once its tokens and the grace have expired', async () => {
    let clock = Date.now();
    const list = replica(undefined, 60_000, () => clock);
    await list.start();
    const sid = randomUUID();
    await list.revoke(sid, new Date(clock + 60_000));
    await list.revoke(sid, new Date(clock + 1_000));
    clock += 60_000 + DENY_LIST_GRACE_MS - 1;
    assert.equal(await list.isRevoked(sid), true, 'until the later expiry plus the grace');
    clock += 2;
    assert.equal(await list.isRevoked(sid), false);
    list.stop();
  });

  it('fails closed when it cannot be brought up to date, and answers again once Postgres is back', async () => {
    const dead = dbAt(`postgres://postgres@127.0.0.1:${await freePort()}/none`);
    const list = new ReplicatedSessionDenyList({ record: new PostgresSessionDenyList(dead), syncIntervalMs: 60_000 });
    try {
      await assert.rejects(list.isRevoked(randomUUID()), 'never synced: refuse rather than guess');
      const started = Date.now();
      await assert.rejects(list.isRevoked(randomUUID()));
      assert.ok(Date.now() - started < 200, 'while down, a read fails at once instead of waiting for a connection');
    } finally {
      await dead.destroy();
    }
  });

  it('createSessionDenyList builds the replicated list over the Postgres record', async () => {
    const list = createSessionDenyList({ db });
    assert.ok(list instanceof ReplicatedSessionDenyList);
    await list.start();
    const sid = randomUUID();
    await list.revoke(sid, minutes(15));
    assert.equal(await new PostgresSessionDenyList(db).isRevoked(sid), true);
    list.stop();
  });
});
