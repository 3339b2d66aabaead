import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it, onTestFinished } from 'vitest';
import pg from 'pg';
import { stopEmbeddedPostgresAt } from '../src/index.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./fixtures/shared-child.ts', import.meta.url));

async function startFromAnotherProcess(dataDir: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--conditions=@hearth/source', '--import', 'tsx', child, dataDir], {
    timeout: 90_000,
  });
  return (JSON.parse(stdout.trim()) as { url: string }).url;
}

describe('sharedEmbeddedPostgres', () => {
  it('gives parallel processes one server, outliving them, even past a lock left by a dead process', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hearth-shared-'));
    await chmod(root, 0o755);
    const dataDir = join(root, 'test-pg');
    // Registered in the test itself (a hook inside a test would never run): the server outlives
    // the processes that started it, so the test stops it.
    onTestFinished(async () => {
      await stopEmbeddedPostgresAt(dataDir);
      await rm(root, { recursive: true, force: true });
    });
    // A pid that cannot be alive: above the kernel's pid_max ceiling (2^22).
    await writeFile(`${dataDir}.lock`, '4194999');

    const urls = await Promise.all([startFromAnotherProcess(dataDir), startFromAnotherProcess(dataDir), startFromAnotherProcess(dataDir)]);
    assert.equal(new Set(urls).size, 1, `expected one server, got ${urls.join(', ')}`);

    // Every child process has exited; the server is still there for the next one.
    const client = new pg.Client({ connectionString: urls[0] });
    await client.connect();
    const { rows } = await client.query<{ fsync: string }>('show fsync');
    await client.end();
    assert.equal(rows[0]?.fsync, 'off');
  });
});
