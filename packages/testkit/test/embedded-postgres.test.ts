import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { type EmbeddedPostgres, freePort, runningEmbeddedPostgres, startEmbeddedPostgres } from '../src/index.js';

const silent = { info: () => undefined, warn: () => undefined };
const run = promisify(execFile);
// Starts a server on the data directory given as its argument, and exits leaving it running.
const child = fileURLToPath(new URL('./fixtures/shared-child.ts', import.meta.url));

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

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hearth-embedded-'));
    // mkdtemp makes a 0700 dir; as root the server runs as `postgres`, which must enter it.
    await chmod(root, 0o755);
    dataDir = join(root, 'pg');
  });
  afterAll(async () => {
    for (const pg of running) await pg.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('initialises, serves queries (as a non-root user when we are root) and stops', async () => {
    const server = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.ownership, 'started');
    assert.match(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/hearth$/);
    const [row] = await sql<{ version: string; db: string; usr: string }>(
      server.url,
      'select version(), current_database() as db, current_user as usr',
    );
    assert.match(row?.version ?? '', /^PostgreSQL 15\./);
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

  it('refuses a data directory made by another major version, naming what to do, and recreates a throwaway one', async () => {
    const other = join(root, 'other-major');
    await mkdir(other, { recursive: true, mode: 0o700 });
    await writeFile(join(other, 'PG_VERSION'), '17\n');
    await assert.rejects(startEmbeddedPostgres({ dataDir: other, logger: silent }), /made by PostgreSQL 17.*rm -rf/s);
    const server = await startEmbeddedPostgres({ dataDir: other, logger: silent, onOtherMajor: 'recreate' });
    try {
      assert.equal(server.ownership, 'started');
    } finally {
      await server.stop();
    }
  });

  it('restarts on the same data directory with the data intact', async () => {
    const port = await freePort();
    const server = await startEmbeddedPostgres({ dataDir, port, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.port, port);
    assert.equal(server.ownership, 'started');
    assert.deepEqual(await sql(server.url, 'select note from survivor'), [{ note: 'still here' }]);
  });

  it('attaches to a server another handle started, and stopping the attached handle leaves it running', async () => {
    const first = running.at(-1);
    assert.ok(first);
    assert.equal(first.ownership, 'started');
    const again = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    assert.equal(again.ownership, 'attached');
    assert.equal(again.startedBy, process.pid);
    assert.equal(again.pid, first.pid);
    assert.equal(again.port, first.port);
    assert.deepEqual(await runningEmbeddedPostgres(dataDir), { port: first.port, pid: first.pid, startedBy: process.pid });
    // What a second `npm run dev` does on its way out: it must not take the first one's database down.
    await again.stop();
    assert.equal(alive(first.pid), true);
    assert.deepEqual(await sql(first.url, 'select note from survivor'), [{ note: 'still here' }]);
    await first.stop();
    assert.equal(alive(first.pid), false);
    assert.equal(await runningEmbeddedPostgres(dataDir), undefined);
  });

  it('inherits a server whose starter has exited (a killed dev run) and stops it', async () => {
    // The child starts the server and exits without stopping it, as a killed process would.
    const { stdout } = await run(process.execPath, ['--conditions=@hearth/source', '--import', 'tsx', child, dataDir], { timeout: 90_000 });
    const orphanUrl = (JSON.parse(stdout.trim()) as { url: string }).url;
    const orphan = await runningEmbeddedPostgres(dataDir);
    assert.ok(orphan);
    assert.equal(orphan.startedBy, undefined);
    const server = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.ownership, 'inherited');
    assert.equal(server.pid, orphan.pid);
    assert.equal(new URL(server.url).port, new URL(orphanUrl).port);
    // Inheriting makes this process the starter: a further handle only attaches.
    const again = await startEmbeddedPostgres({ dataDir, logger: silent });
    assert.equal(again.ownership, 'attached');
    await again.stop();
    assert.equal(alive(server.pid), true);
    await server.stop();
    assert.equal(alive(server.pid), false);
  });

  it('starts despite a stale postmaster.pid whose pid now belongs to another program', async () => {
    // A live process owned by the same user as the server: postgres alone would refuse to
    // start ("lock file already exists"); we must recognise it is not a postmaster.
    const asServerUser = process.getuid?.() === 0 ? await serverIds(dataDir) : {};
    const sleeper = spawn('sleep', ['30'], { ...asServerUser, stdio: 'ignore' });
    afterAll(() => sleeper.kill());
    assert.ok(sleeper.pid);
    await writeFile(join(dataDir, 'postmaster.pid'), `${sleeper.pid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);

    const server = await startEmbeddedPostgres({ dataDir, database: 'hearth', logger: silent });
    running.push(server);
    assert.equal(server.ownership, 'started');
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
