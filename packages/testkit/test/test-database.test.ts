import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, ensurePostgres } from '../src/index.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('ensurePostgres is memoized and answers', async () => {
    const [a, b] = await Promise.all([ensurePostgres(), ensurePostgres()]);
    assert.equal(a, b);
    const rows = await withClient(a.url, async (c) => (await c.query<{ one: number }>('select 1 as one')).rows);
    assert.deepEqual(rows, [{ one: 1 }]);
  });

  it('gives each call its own database, invisible to the other', async () => {
    const a = await createTestDatabase({ prefix: 'Kit-A' });
    const b = await createTestDatabase();
    afterAll(() => Promise.all([a.drop(), b.drop()]));
    assert.notEqual(a.name, b.name);
    assert.match(a.name, /^hearth_t_kit_a_[0-9a-f]{12}$/);
    assert.match(b.name, /^hearth_t_[0-9a-f]{12}$/);

    await withClient(a.url, async (c) => {
      assert.equal((await c.query<{ db: string }>('select current_database() as db')).rows[0]?.db, a.name);
      await c.query('create table only_in_a (id int)');
      await c.query('insert into only_in_a values (1)');
    });
    await withClient(b.url, async (c) => {
      assert.equal((await c.query<{ db: string }>('select current_database() as db')).rows[0]?.db, b.name);
      await assert.rejects(c.query('select * from only_in_a'), { code: '42P01' });
    });
  });

  it('drop() drops the database even with a connection still open, and is idempotent', async () => {
    const { url: admin } = await ensurePostgres();
    const db = await createTestDatabase({ prefix: 'drop' });
    const lingering = new pg.Client({ connectionString: db.url });
    lingering.on('error', () => undefined);
    await lingering.connect();

    await db.drop();
    await db.drop();
    const left = await withClient(admin, async (c) => (await c.query('select 1 from pg_database where datname = $1', [db.name])).rowCount);
    assert.equal(left, 0);
    await assert.rejects(withClient(db.url, (c) => c.query('select 1')), { code: '3D000' });
    await lingering.end().catch(() => undefined);
  });

  it('supports await using', async () => {
    let name: string;
    {
      await using db = await createTestDatabase();
      name = db.name;
    }
    const { url: admin } = await ensurePostgres();
    const left = await withClient(admin, async (c) => (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount);
    assert.equal(left, 0);
  });
});
