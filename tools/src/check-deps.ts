// `npm run -w tools check:deps`: every package a workspace imports is declared in its
// package.json (src: dependencies; tests: dependencies or devDependencies), and every declared
// dependency is imported somewhere (or is a known tool run by name). Hoisting lets an undeclared
// import work on one machine and break in a production install that omits dev dependencies.
import { readFile, readdir } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = (): string => fileURLToPath(new URL('../../', import.meta.url));

/**
 * Dev tools in tools/src (the dev runner, benchmarks, the fuzz generator, CI checks): they never
 * run in production, so they may use devDependencies. The rest of tools/src (migrate,
 * grant-role, the system) ships in the image.
 */
const DEV_ONLY = /^(packages\/testkit\/|tools\/src\/(dev|demo|dev-secrets|env-docs|check-|vendor-|chat-faults|bench\/|fuzz\/|proto-print\/))/;

/** Declared for what they run, not what they export (binaries, peers, type packages). */
const USED_WITHOUT_IMPORT = new Set(['@types/node', '@types/pg', '@types/opossum', '@types/oidc-provider', 'node', 'tsx', 'typescript', 'eslint', '@bufbuild/buf', '@bufbuild/protoc-gen-es', 'turbo']);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Bare package names a file imports (static, dynamic and type-only imports, re-exports). */
function importsOf(text: string): string[] {
  // Also require.resolve and createRequire(...).resolve of a package: found, not imported.
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*|\.resolve\(\s*)['"]([^'"./][^'"]*)['"]/g)].map((m) => m[1] as string);
  return specs
    .filter((s) => !s.startsWith('node:') && !s.endsWith('.proto') && !builtinModules.includes(s.split('/')[0] as string))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string)));
}

export async function checkDeps(root = repoRoot()): Promise<string[]> {
  const problems: string[] = [];
  const dirs = [
    ...(await readdir(join(root, 'packages'))).map((d) => join(root, 'packages', d)),
    ...(await readdir(join(root, 'services'))).map((d) => join(root, 'services', d)),
    join(root, 'tools'),
  ];
  for (const dir of dirs) {
    const m = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
    // The test runner and the repository's tools are the root's; every workspace's tests use them.
    const rootDev = new Set(Object.keys((JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest).devDependencies ?? {}));
    const deps = new Set(Object.keys(m.dependencies ?? {}));
    const dev = new Set(Object.keys(m.devDependencies ?? {}));
    const used = new Set<string>();
    for (const [kind, sub] of [['src', 'src'], ['test', 'test']] as const) {
      for (const f of await files(join(dir, sub))) {
        for (const pkg of importsOf(await readFile(f, 'utf8'))) {
          if (pkg === m.name) continue;
          used.add(pkg);
          const devFile = kind === 'test' || DEV_ONLY.test(relative(root, f));
          const ok = deps.has(pkg) || (devFile && (dev.has(pkg) || rootDev.has(pkg)));
          if (!ok) problems.push(`${relative(root, f)} imports ${pkg}, which ${m.name} does not declare${devFile ? '' : ' in dependencies'}`);
        }
      }
    }
    for (const pkg of [...deps, ...dev]) {
      // A type package is used by the compiler for its untyped twin, never imported by name.
      if (!used.has(pkg) && !USED_WITHOUT_IMPORT.has(pkg) && !pkg.startsWith('@types/')) problems.push(`${m.name} declares ${pkg} but nothing imports it`);
    }
  }
  return [...new Set(problems)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = await checkDeps();
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} dependency problem(s)\n`);
    process.exitCode = 1;
  } else process.stdout.write('every import is declared and every declared dependency is used\n');
}
