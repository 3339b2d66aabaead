import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, it } from 'vitest';
import { freePort } from '@hearth/testkit';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase, isSerializationFailure, isUniqueViolation } from '../src/index.js';
import { memoryLogger, testDatabase } from './helpers.js';

const t = await testDatabase();

async function admin<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('Database.transaction onCommit', () => {
  const logger = memoryLogger();
  const db = t.open({ schema: 'hooks' }, logger);
  beforeAll(() => admin('create schema hooks; create table hooks.notes (body text primary key)'));
  const committed = async (body: string) =>
    (await admin('select 1 from hooks.notes where body = $1', [body])).length === 1;

  it('runs hooks after the commit, in registration order, before transaction() resolves', async () => {
    const events: string[] = [];
    const result = await db.transaction(async (tx) => {
      await sql`insert into notes (body) values ('first')`.execute(tx);
      tx.onCommit(async () => {
        // Seen from another connection: the data is durable before the hook runs.
        events.push(`hook1 committed=${await committed('first')}`);
      });
      tx.onCommit(() => {
        events.push('hook2');
      });
      events.push('fn done');
      return 'result';
    });
    events.push('resolved');
    assert.equal(result, 'result');
    assert.deepEqual(events, ['fn done', 'hook1 committed=true', 'hook2', 'resolved']);
  });

  it('runs no hook when the callback throws, and rolls back', async () => {
    let ran = false;
    await assert.rejects(
      db.transaction(async (tx) => {
        await sql`insert into notes (body) values ('rolled back')`.execute(tx);
        tx.onCommit(() => {
          ran = true;
        });
        throw new Error('nope');
      }),
      /nope/,
    );
    assert.equal(ran, false);
    assert.equal(await committed('rolled back'), false);
  });

  it('runs no hook when COMMIT itself fails', async () => {
    await admin('create table hooks.deferred (v int unique deferrable initially deferred)');
    let ran = false;
    await assert.rejects(
      db.transaction(async (tx) => {
        await sql`insert into deferred (v) values (1), (1)`.execute(tx);
        tx.onCommit(() => {
          ran = true;
        });
      }),
      (err: unknown) => isUniqueViolation(err),
    );
    assert.equal(ran, false);
  });

  it('logs a failing hook without failing the committed transaction, and runs the later hooks', async () => {
    let later = false;
    const result = await db.transaction(async (tx) => {
      await sql`insert into notes (body) values ('kept')`.execute(tx);
      tx.onCommit(() => {
        throw new Error('bus down');
      });
      tx.onCommit(() => {
        later = true;
      });
      return 7;
    });
    assert.equal(result, 7);
    assert.equal(later, true);
    assert.equal(await committed('kept'), true);
    const entry = logger.entries.find((e) => e.msg === 'onCommit hook failed after commit');
    assert.ok(entry);
    assert.equal(entry.level, 'error');
    assert.match(String((entry.obj as { err: Error }).err.message), /bus down/);
  });

  it('refuses onCommit after the transaction ended', async () => {
    let saved: { onCommit(h: () => void): void } | undefined;
    await db.transaction(async (tx) => {
      saved = tx;
    });
    assert.throws(() => saved?.onCommit(() => undefined), /after the transaction ended/);
  });
});

describe('Database connection settings', () => {
  it('enforces statement_timeout on every pooled connection', async () => {
    const db = t.open({ schema: 'timeouts', statementTimeoutMs: 200, poolMax: 2 });
    const started = Date.now();
    const results = await Promise.allSettled([1, 2, 3].map(() => sql`select pg_sleep(3)`.execute(db.db)));
    assert.ok(Date.now() - started < 2_500, 'queries must be cancelled well before pg_sleep ends');
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.equal((r.reason as { code?: string }).code, '57014'); // query_canceled
    }
  });

  it('isolates services by search_path: unqualified names resolve only in the own schema', async () => {
    await admin('create schema iso_a; create schema iso_b');
    const a = t.open({ schema: 'iso_a' });
    const b = t.open({ schema: 'iso_b' });
    const paths = await Promise.all([a, b].map((db) => sql<{ search_path: string }>`show search_path`.execute(db.db)));
    assert.deepEqual(paths.map((r) => r.rows[0]?.search_path), ['iso_a', 'iso_b']);

    await sql`create table items (v text)`.execute(a.db);
    await sql`create table items (v text)`.execute(b.db);
    await sql`create table only_b (v text)`.execute(b.db);
    await sql`insert into items values ('from a')`.execute(a.db);
    await sql`insert into items values ('from b')`.execute(b.db);

    assert.deepEqual((await sql`select v from items`.execute(a.db)).rows, [{ v: 'from a' }]);
    assert.deepEqual((await sql`select v from items`.execute(b.db)).rows, [{ v: 'from b' }]);
    await assert.rejects(sql`select * from only_b`.execute(a.db), { code: '42P01' });
    assert.deepEqual(await admin(`select table_schema from information_schema.tables where table_name = 'items' order by 1`), [
      { table_schema: 'iso_a' },
      { table_schema: 'iso_b' },
    ]);
  });

  it('never falls back to public when the schema does not exist', async () => {
    const db = t.open({ schema: 'not_created' });
    await assert.rejects(sql`create table stray (v int)`.execute(db.db), { code: '3F000' }); // no schema selected
  });

  it('rejects schema names that are not plain identifiers', () => {
    assert.throws(() => t.open({ schema: 'a b; drop' }), /invalid schema name/);
  });

  it('sets application_name for pg_stat_activity', async () => {
    const db = t.open({ schema: 'iso_a', applicationName: 'hearth-appname-test' });
    const { rows } = await sql<{ name: string }>`select current_setting('application_name') as name`.execute(db.db);
    assert.equal(rows[0]?.name, 'hearth-appname-test');
  });
});

describe('Database.ping', () => {
  it('answers when the server is up', async () => {
    await t.open({ schema: 'ping' }).ping();
  });

  it('fails within its timeout when the pool is exhausted', async () => {
    const db = t.open({ schema: 'ping', poolMax: 1 });
    let release!: () => void;
    const held = db.transaction(() => new Promise<void>((r) => (release = r)));
    await sleep(50);
    const started = Date.now();
    await assert.rejects(db.ping(300), /did not answer within 300 ms/);
    assert.ok(Date.now() - started < 1_000);
    release();
    await held;
  });

  it('fails when no server listens', async () => {
    const logger = memoryLogger();
    const db = createDatabase(
      {
        url: `postgres://postgres@127.0.0.1:${await freePort()}/nothing`,
        schema: 'ping',
        poolMax: 1,
        connectionTimeoutMs: 500,
        idleTimeoutMs: 1_000,
        statementTimeoutMs: 1_000,
        applicationName: 'hearth-db-test',
      },
      { logger },
    );
    try {
      await assert.rejects(db.ping(1_000));
    } finally {
      await db.destroy();
      await db.destroy();
    }
  });
});

describe('pool errors', () => {
  it('are logged, not thrown, when an idle connection is killed; the pool recovers', async () => {
    const logger = memoryLogger();
    const db = t.open({ schema: 'ping', applicationName: 'hearth-kill-me' }, logger);
    await sql`select 1`.execute(db.db);
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hearth-kill-me'`);
    for (let i = 0; i < 50 && logger.entries.length === 0; i++) await sleep(20);
    assert.equal(logger.entries[0]?.msg, 'idle Postgres connection failed');
    assert.deepEqual((await sql`select 1 as one`.execute(db.db)).rows, [{ one: 1 }]);
  });
});

describe('error classification', () => {
  const db = t.open({ schema: 'errs' });
  beforeAll(() => admin('create schema errs; create table errs.acc (name text constraint acc_name_key unique, v int)'));

  it('recognises a unique violation, optionally by constraint name', async () => {
    await sql`insert into acc values ('x', 1)`.execute(db.db);
    const err = await sql`insert into acc values ('x', 2)`.execute(db.db).then(
      () => assert.fail('duplicate insert must fail'),
      (e: unknown) => e,
    );
    assert.equal(isUniqueViolation(err), true);
    assert.equal(isUniqueViolation(err, 'acc_name_key'), true);
    assert.equal(isUniqueViolation(err, 'other_key'), false);
    assert.equal(isSerializationFailure(err), false);
    assert.equal(isUniqueViolation(new Error('23505')), false);
    assert.equal(isUniqueViolation(null), false);
  });

  it('recognises a serialization failure between two serializable transactions', async () => {
    let arrived = 0;
    let open!: () => void;
    const bothRead = new Promise<void>((r) => (open = r));
    const writeSkew = (name: string) =>
      db.transaction(
        async (tx) => {
          await sql`select sum(v) from acc`.execute(tx);
          if (++arrived === 2) open();
          await bothRead;
          await sql`insert into acc values (${name}, 1)`.execute(tx);
        },
        { isolationLevel: 'serializable' },
      );
    const results = await Promise.allSettled([writeSkew('p'), writeSkew('q')]);
    const failures = results.filter((r) => r.status === 'rejected');
    assert.equal(failures.length, 1, 'exactly one of two write-skewed serializable transactions must fail');
    assert.equal(isSerializationFailure(failures[0]?.reason), true);
    assert.equal(isUniqueViolation(failures[0]?.reason), false);
  });

  it('recognises the loser of a deadlock as a conflict to retry', async () => {
    await sql`insert into acc values ('d1', 0), ('d2', 0)`.execute(db.db);
    let arrived = 0;
    let open!: () => void;
    const bothLocked = new Promise<void>((r) => (open = r));
    const crossed = (first: string, second: string) =>
      db.transaction(async (tx) => {
        await sql`select v from acc where name = ${first} for update`.execute(tx);
        if (++arrived === 2) open();
        await bothLocked;
        await sql`select v from acc where name = ${second} for update`.execute(tx);
      });
    const results = await Promise.allSettled([crossed('d1', 'd2'), crossed('d2', 'd1')]);
    const failures = results.filter((r) => r.status === 'rejected');
    assert.equal(failures.length, 1, 'Postgres aborts one of two crossed lockers');
    assert.equal(isSerializationFailure(failures[0]?.reason), true);
  });
});
