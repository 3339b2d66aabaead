// CI's "generated code is committed and current" gate: regenerate from proto/ with buf.gen.yaml,
// then fail if git sees anything under packages/contracts/src/gen that is not committed, so a
// proto change can never land without the TypeScript that app developers actually import.
//
//   npm run -w tools check:codegen
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const genDir = 'packages/contracts/src/gen';

/** `buf generate` at the repository root (buf.gen.yaml: protoc-gen-es, clean output dir). */
export async function generate(root: string = repoRoot): Promise<void> {
  try {
    await run(path.join(root, 'node_modules/.bin/buf'), ['generate'], { cwd: root, maxBuffer: 64 << 20 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`buf generate failed:\n${stderr || String(error)}`);
  }
}

/**
 * Paths under `dir` that differ from the index or HEAD, or are untracked (deleted files count
 * too), as `XY path` lines from `git status --porcelain`.
 */
export async function driftUnder(root: string, dir: string): Promise<string[]> {
  const { stdout } = await run('git', ['status', '--porcelain=v1', '--untracked-files=all', '--', dir], {
    cwd: root,
    maxBuffer: 64 << 20,
  });
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

async function main(): Promise<number> {
  await generate();
  const drift = await driftUnder(repoRoot, genDir);
  if (drift.length > 0) {
    console.error(`generated code in ${genDir} is not what proto/ produces (or is not committed):`);
    for (const line of drift) console.error(`  ${line}`);
    console.error('run `npm run gen` and commit the result');
    return 1;
  }
  console.log(`${genDir} is up to date with proto/`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main();
}
