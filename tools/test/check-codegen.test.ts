// The drift detector behind `check:codegen`, against a throwaway git repository: it must see
// edits, deletions and untracked files under the generated directory, and nothing outside it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { promisify } from 'node:util';
import { driftUnder } from '../src/check-codegen.js';

const run = promisify(execFile);
let repo: string;
const gen = 'packages/contracts/src/gen';

async function git(...args: string[]): Promise<void> {
  await run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: repo });
}

beforeAll(async () => {
  repo = await mkdtemp(path.join(tmpdir(), 'hearth-codegen-test-'));
  await git('init', '-q');
  await mkdir(path.join(repo, gen, 'hearth/v1'), { recursive: true });
  await writeFile(path.join(repo, gen, 'hearth/v1/a_pb.ts'), 'export const a = 1;\n');
  await writeFile(path.join(repo, gen, 'hearth/v1/b_pb.ts'), 'export const b = 1;\n');
  await writeFile(path.join(repo, 'README.md'), 'hi\n');
  await git('add', '.');
  await git('commit', '-q', '-m', 'init');
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

test('a clean tree has no drift', async () => {
  assert.deepEqual(await driftUnder(repo, gen), []);
});

test('edits, deletions and new files under the generated dir are drift; other paths are not', async () => {
  await writeFile(path.join(repo, gen, 'hearth/v1/a_pb.ts'), 'export const a = 2;\n');
  await rm(path.join(repo, gen, 'hearth/v1/b_pb.ts'));
  await mkdir(path.join(repo, gen, 'hearth/v2'), { recursive: true });
  await writeFile(path.join(repo, gen, 'hearth/v2/c_pb.ts'), 'export const c = 1;\n');
  await writeFile(path.join(repo, 'README.md'), 'changed\n');
  const drift = await driftUnder(repo, gen);
  assert.deepEqual(drift.sort(), [
    ` D ${gen}/hearth/v1/b_pb.ts`,
    ` M ${gen}/hearth/v1/a_pb.ts`,
    `?? ${gen}/hearth/v2/c_pb.ts`,
  ].sort());
});
