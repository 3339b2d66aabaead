import assert from 'node:assert/strict';
import { freePort } from '@hearth/testkit';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, it } from 'vitest';
import { VersionConflictError, assertVersion, createDatabase, isConnectionFailure, isQueryCanceled, isSerializationFailure } from '../src/index.js';
import { testDatabase } from './helpers.js';

const t = await testDatabase();

describe('isConnectionFailure: every way Postgres goes missing is told apart from a bad query', () => {
  it('a server that refuses the connection', async () => {
    const db = createDatabase({ url: `postgres://postgres@127.0.0.1:${await freePort()}/x`, schema: 'public', poolMax: 1, connectionTimeoutMs: 2_000, idleTimeoutMs: 1_000, statementTimeoutMs: 1_000, applicationName: 't' });
    const err = await sql`select 1`.execute(db.db).then(() => undefined, (e: unknown) => e);
    await db.destroy();
    assert.ok(isConnectionFailure(err), String(err));
  });

  it('a pool with no free connection in time', async () => {
    const db = t.open({ schema: 'public', poolMax: 1, connectionTimeoutMs: 200 });
    const held = db.transaction(() => new Promise<void>((r) => setTimeout(r, 1_000)));
    const err = await sql`select 1`.execute(db.db).then(() => undefined, (e: unknown) => e);
    await held;
    assert.ok(isConnectionFailure(err), String(err));
  });

  it('a connection the server ends (an administrator, a failover)', async () => {
    const db = t.open({ schema: 'public', poolMax: 1 });
    const err = await db
      .transaction(async (tx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        const admin = new pg.Client({ connectionString: t.url });
        await admin.connect();
        await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
        await admin.end();
        await sql`select 1`.execute(tx);
      })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(isConnectionFailure(err), String(err));
  });

  it('is false for the caller\'s and our own mistakes', async () => {
    const db = t.open({ schema: 'public', poolMax: 1 });
    for (const bad of [sql`select * from no_such_table`, sql`select 1/0`, sql`select 'a'::int`, sql`select ${'\u0000'}::text`]) {
      const err = await bad.execute(db.db).then(() => undefined, (e: unknown) => e);
      assert.ok(err, 'the statement must fail');
      assert.equal(isConnectionFailure(err), false, String(err));
    }
  });

  it('tells a statement_timeout and a serialization failure by their codes', async () => {
    const db = t.open({ schema: 'public', poolMax: 1, statementTimeoutMs: 50 });
    const err = await sql`select pg_sleep(1)`.execute(db.db).then(() => undefined, (e: unknown) => e);
    assert.ok(isQueryCanceled(err) && !isConnectionFailure(err), String(err));
    assert.equal(isSerializationFailure(err), false);
  });
});

describe('assertVersion', () => {
  it('passes the current version in any representation and refuses every other', () => {
    for (const current of [1, '1', 1n]) assert.doesNotThrow(() => assertVersion('circle', current, 1n));
    for (const requested of [0n, 2n, -1n, 2n ** 63n - 1n]) {
      assert.throws(
        () => assertVersion('circle', '1', requested),
        (err: unknown) => err instanceof VersionConflictError && err.message === 'the circle has changed (now version 1); reload it and try again',
      );
    }
  });
});
