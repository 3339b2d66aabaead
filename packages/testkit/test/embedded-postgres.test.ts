import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type EmbeddedPostgres, freePort, startEmbeddedPostgres } from '../src/index.js';

const silent = { info: () => undefined, warn: () => undefined };

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startEmbeddedPostgres', () => {
  let root: string;
  let dataDir: string;
  const running: EmbeddedPostgres[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'hearth-embedded-'));
    // mkdtemp makes a 0700 dir; as root the server runs as `postgres`, which must enter it.
    await chmod(root, 0o755);
    dataDir = join(root, 'pg');
  });
  after(async () => {
    for (const pg of running) await pg.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('initialises, serves queries (as a non-root user when we are root) and stops', async () => {
    const server = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.adopted, false);
    assert.match(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/hearth$/);
    const [row] = await sql<{ version: string; db: string; usr: string }>(
      server.url,
      'select version(), current_database() as db, current_user as usr',
    );
    assert.match(row?.version ?? '', /^PostgreSQL 17\./);
    assert.equal(row?.db, 'hearth');
    await sql(server.url, 'create table survivor (note text); insert into survivor values ($$still here$$)');
    if (process.getuid?.() === 0) {
      const status = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${server.pid}/status`, 'utf8'));
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      assert.notEqual(uid, '0', 'the server must not run as root');
    }
    await server.stop();
    assert.equal(alive(server.pid), false);
  });

  it('restarts on the same data directory with the data intact', async () => {
    const port = await freePort();
    const server = await startEmbeddedPostgres({ dataDir, port, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.port, port);
    assert.equal(server.adopted, false);
    assert.deepEqual(await sql(server.url, 'select note from survivor'), [{ note: 'still here' }]);
  });

  it('reuses a server still running on the data directory (e.g. after a killed dev run)', async () => {
    const first = running.at(-1);
    assert.ok(first);
    const again = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    assert.equal(again.adopted, true);
    assert.equal(again.pid, first.pid);
    assert.equal(again.port, first.port);
    await again.stop();
    assert.equal(alive(first.pid), false);
  });

  it('starts despite a stale postmaster.pid whose pid now belongs to another program', async () => {
    // A live process owned by the same user as the server: postgres alone would refuse to
    // start ("lock file already exists"); we must recognise it is not a postmaster.
    const asServerUser = process.getuid?.() === 0 ? await serverIds(dataDir) : {};
    const sleeper = spawn('sleep', ['30'], { ...asServerUser, stdio: 'ignore' });
    after(() => sleeper.kill());
    assert.ok(sleeper.pid);
    await writeFile(join(dataDir, 'postmaster.pid'), `${sleeper.pid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);

    const server = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.adopted, false);
    assert.deepEqual(await sql(server.url, 'select note from survivor'), [{ note: 'still here' }]);
    assert.equal(alive(sleeper.pid), true);
    await server.stop();
  });

  it('refuses a non-empty directory that is not a data directory', async () => {
    const junk = join(root, 'junk');
    await import('node:fs/promises').then((fs) => fs.mkdir(junk));
    await writeFile(join(junk, 'notes.txt'), 'mine');
    await assert.rejects(startEmbeddedPostgres({ dataDir: junk, logger: silent }), /neither empty nor a PostgreSQL data directory/);
  });
});

async function serverIds(dataDir: string): Promise<{ uid: number; gid: number }> {
  const { stat } = await import('node:fs/promises');
  const s = await stat(dataDir);
  return { uid: s.uid, gid: s.gid };
}
