import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { MigrationError, type Migrations, migrateToLatest, migrationStatus } from '../src/index.js';
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

const recorded = async (schema: string) =>
  (await admin<{ name: string }>(`select name from ${schema}.kysely_migration order by name`)).map((r) => r.name);
const tableExists = async (qualified: string) =>
  (await admin<{ ok: boolean }>('select to_regclass($1) is not null as ok', [qualified]))[0]?.ok === true;

describe('migrateToLatest', () => {
  it('creates the schema, applies migrations in key order, records them, and a rerun is a no-op', async () => {
    const db = t.open({ schema: 'ordered' });
    const ran: string[] = [];
    // Declared out of order on purpose: 0002 needs the table 0001 creates.
    const migrations: Migrations = {
      '2026_11_23_0002_add_title': {
        async up(k: Kysely<unknown>) {
          ran.push('0002');
          await k.schema.alterTable('notes').addColumn('title', 'text').execute();
        },
      },
      '2026_11_23_0001_init': {
        async up(k: Kysely<unknown>) {
          ran.push('0001');
          await k.schema.createTable('notes').addColumn('id', 'uuid', (c) => c.primaryKey()).execute();
        },
      },
    };
    assert.deepEqual(await migrationStatus(db, { schema: 'ordered', migrations }), {
      applied: [],
      pending: ['2026_11_23_0001_init', '2026_11_23_0002_add_title'],
      unknown: [],
    });

    const first = await migrateToLatest(db, { schema: 'ordered', migrations });
    assert.deepEqual(first.applied, ['2026_11_23_0001_init', '2026_11_23_0002_add_title']);
    assert.deepEqual(ran, ['0001', '0002']);
    assert.deepEqual(await recorded('ordered'), ['2026_11_23_0001_init', '2026_11_23_0002_add_title']);
    // Unqualified DDL in a migration lands in the service schema, never in public.
    assert.equal(await tableExists('ordered.notes'), true);
    assert.equal(await tableExists('public.notes'), false);

    const again = await migrateToLatest(db, { schema: 'ordered', migrations });
    assert.deepEqual(again.applied, []);
    assert.deepEqual(ran, ['0001', '0002']);

    const more: Migrations = {
      ...migrations,
      '2026_11_24_0001_index': { up: (k: Kysely<unknown>) => k.schema.createIndex('notes_title').on('notes').column('title').execute() },
    };
    assert.deepEqual((await migrateToLatest(db.db, { schema: 'ordered', migrations: more })).applied, ['2026_11_24_0001_index']);
    assert.deepEqual(await migrationStatus(db, { schema: 'ordered', migrations: more }), {
      applied: ['2026_11_23_0001_init', '2026_11_23_0002_add_title', '2026_11_24_0001_index'],
      pending: [],
      unknown: [],
    });
  });

  it('applies each migration exactly once when two replicas migrate at the same moment', async () => {
    // Two pools, as two service replicas would have.
    const a = t.open({ schema: 'raced' });
    const b = t.open({ schema: 'raced' });
    await admin('create table public.migration_runs (name text not null)');
    const step = (name: string, sleepSeconds: number) => ({
      async up(k: Kysely<unknown>) {
        // Long enough that the second replica arrives while the first is still migrating.
        await sql`select pg_sleep(${sleepSeconds})`.execute(k);
        await sql`insert into public.migration_runs (name) values (${name})`.execute(k);
        await k.schema.createTable(`t_${name.slice(-1)}`).addColumn('id', 'integer').execute();
      },
    });
    const migrations: Migrations = {
      '2026_11_23_0001_a': step('2026_11_23_0001_a', 0.3),
      '2026_11_23_0002_b': step('2026_11_23_0002_b', 0),
      '2026_11_23_0003_c': step('2026_11_23_0003_c', 0),
    };
    const [ra, rb] = await Promise.all([
      migrateToLatest(a, { schema: 'raced', migrations }),
      migrateToLatest(b, { schema: 'raced', migrations }),
    ]);
    assert.deepEqual([...ra.applied, ...rb.applied].sort(), Object.keys(migrations).sort());
    assert.ok(ra.applied.length === 0 || rb.applied.length === 0, 'one replica does all the work, the other finds none');
    const runs = await admin<{ name: string; n: string }>('select name, count(*) as n from public.migration_runs group by name order by name');
    assert.deepEqual(runs, Object.keys(migrations).map((name) => ({ name, n: '1' })));
    assert.deepEqual(await recorded('raced'), Object.keys(migrations));
  });

  it('throws a MigrationError naming the failed migration and leaves nothing of the run applied', async () => {
    const db = t.open({ schema: 'broken' });
    const base: Migrations = {
      '2026_11_23_0001_base': { up: (k: Kysely<unknown>) => k.schema.createTable('base').addColumn('id', 'integer').execute() },
    };
    await migrateToLatest(db, { schema: 'broken', migrations: base });

    const failing: Migrations = {
      ...base,
      '2026_11_23_0002_fine': { up: (k: Kysely<unknown>) => k.schema.createTable('fine').addColumn('id', 'integer').execute() },
      '2026_11_23_0003_bad': {
        async up(k: Kysely<unknown>) {
          await k.schema.createTable('half').addColumn('id', 'integer').execute();
          throw new Error('boom');
        },
      },
    };
    await assert.rejects(migrateToLatest(db, { schema: 'broken', migrations: failing }), (err: unknown) => {
      assert.ok(err instanceof MigrationError);
      assert.equal(err.migration, '2026_11_23_0003_bad');
      assert.equal(err.schema, 'broken');
      assert.match(err.message, /migration broken\/2026_11_23_0003_bad failed: boom/);
      assert.match(err.message, /rolled back with it: 2026_11_23_0002_fine/);
      return true;
    });
    assert.deepEqual(await recorded('broken'), ['2026_11_23_0001_base']);
    assert.equal(await tableExists('broken.base'), true);
    assert.equal(await tableExists('broken.fine'), false);
    assert.equal(await tableExists('broken.half'), false);

    const fixed: Migrations = {
      ...failing,
      '2026_11_23_0003_bad': { up: (k: Kysely<unknown>) => k.schema.createTable('half').addColumn('id', 'integer').execute() },
    };
    assert.deepEqual((await migrateToLatest(db, { schema: 'broken', migrations: fixed })).applied, [
      '2026_11_23_0002_fine',
      '2026_11_23_0003_bad',
    ]);
  });

  it('lifts the pool statement_timeout while migrating and restores the connection afterwards', async () => {
    const db = t.open({ schema: 'slow', statementTimeoutMs: 100, poolMax: 1 });
    const migrations: Migrations = {
      '2026_11_23_0001_slow': {
        async up(k: Kysely<unknown>) {
          await sql`select pg_sleep(0.4)`.execute(k);
        },
      },
    };
    assert.deepEqual((await migrateToLatest(db, { schema: 'slow', migrations })).applied, ['2026_11_23_0001_slow']);
    // poolMax 1: this is the connection the migration ran on.
    const { rows } = await sql<{ timeout: string; path: string }>`
      select current_setting('statement_timeout') as timeout, current_setting('search_path') as path`.execute(db.db);
    assert.deepEqual(rows, [{ timeout: '100ms', path: 'slow' }]);
  });

  it('leaves a schema that is ahead of the code alone (rolling deploy), but refuses a diverged one', async () => {
    const logger = memoryLogger();
    const db = t.open({ schema: 'ahead' });
    const noop = { up: async () => undefined };
    const v2: Migrations = { '2026_11_23_0001_a': noop, '2026_11_23_0002_b': noop };
    await migrateToLatest(db, { schema: 'ahead', migrations: v2 });

    const v1: Migrations = { '2026_11_23_0001_a': noop };
    assert.deepEqual((await migrateToLatest(db, { schema: 'ahead', migrations: v1, logger })).applied, []);
    assert.equal(logger.entries[0]?.level, 'warn');
    assert.deepEqual((logger.entries[0]?.obj as { unknown: string[] }).unknown, ['2026_11_23_0002_b']);

    const diverged: Migrations = { '2026_11_23_0001_a': noop, '2026_11_23_0003_c': noop };
    await assert.rejects(migrateToLatest(db, { schema: 'ahead', migrations: diverged }), /2026_11_23_0002_b is missing/);
  });

  it('rejects migration keys that do not carry a timestamp', async () => {
    const db = t.open({ schema: 'names' });
    await assert.rejects(
      migrateToLatest(db, { schema: 'names', migrations: { init: { up: async () => undefined } } }),
      /migration names must look like 2026_11_23_0001_init, got: init/,
    );
  });
});
