import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Exit {
  code: number | null;
  stderr: string;
}

/** Starts an entry point the way npm scripts do and waits for it to exit. */
function run(entry: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@hearth/source', '--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a bad config never starts a server', () => {
  it('one service exits non-zero naming both bad values', async () => {
    const { code, stderr } = await run('services/user/src/main.ts', {
      HEARTH_PORT: 'eighty',
      DATABASE_URL: 'mysql://localhost/hearth',
    });
    assert.equal(code, 1);
    assert.match(stderr, /HEARTH_PORT/);
    assert.match(stderr, /DATABASE_URL/);
    assert.match(stderr, /2 problems/);
  });

  it('the monolith reports the problems of every service once', async () => {
    const { code, stderr } = await run('tools/src/migrate.ts', {
      DATABASE_URL: 'postgres://localhost/hearth',
      HEARTH_LOG_LEVEL: 'loud',
      HEARTH_REALTIME_HEARTBEAT_MS: '-5',
    });
    assert.equal(code, 1);
    assert.match(stderr, /HEARTH_LOG_LEVEL/);
    assert.match(stderr, /HEARTH_REALTIME_HEARTBEAT_MS/);
    assert.equal(stderr.match(/HEARTH_LOG_LEVEL/g)?.length, 1);
  });

  it('a misspelt variable is an error, not a silent default', async () => {
    const { code, stderr } = await run('services/post/src/main.ts', {
      DATABASE_URL: 'postgres://localhost/hearth',
      HEARTH_PROT: '9000',
    });
    assert.equal(code, 1);
    assert.match(stderr, /HEARTH_PROT: unknown variable/);
  });
});
