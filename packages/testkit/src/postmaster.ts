import { readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { processAlive } from './file-lock.js';

export interface Postmaster {
  pid: number;
  port: number;
}

/** `postmaster.pid` of a data directory: line 1 is the pid, line 4 the port (see miscadmin.h). */
export async function readPostmaster(dataDir: string): Promise<Postmaster | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  return { pid: Number.isInteger(pid) ? pid : 0, port: Number.isInteger(port) ? port : 0 };
}

/**
 * Is `pid` a live postgres? A pid from a killed run may since belong to another program (pid
 * reuse is common in containers); postgres itself would then refuse to start on that data dir.
 */
export async function isLivePostgres(pid: number): Promise<boolean> {
  if (pid <= 0 || !processAlive(pid)) return false;
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => undefined);
  // No /proc (macOS): trust that the pid is alive and let postgres's own check decide.
  return comm === undefined || comm.trim() === 'postgres';
}

/** Removes the pid file left by a postmaster that is gone; returns true if it did. */
export async function clearStalePostmaster(dataDir: string): Promise<boolean> {
  const pm = await readPostmaster(dataDir);
  if (!pm || (await isLivePostgres(pm.pid))) return false;
  await unlink(join(dataDir, 'postmaster.pid')).catch(() => undefined);
  return true;
}

export function adminUrl(port: number, database = 'postgres'): string {
  return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

/** One attempt to run a query on the embedded server; rejects if it does not answer within 1 s. */
export async function query<R extends pg.QueryResultRow>(port: number, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: adminUrl(port), connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Waits until the server on `port` accepts queries. `gone` lets the caller stop waiting as soon as
 * the process it spawned exits (wrong port, bad data dir) instead of at the deadline.
 */
export async function waitUntilReady(port: number, timeoutMs: number, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline && !gone()) {
    try {
      await query(port, 'select 1');
      return;
    } catch (err) {
      last = err;
      await sleep(100);
    }
  }
  const why = last instanceof Error ? last.message : 'no answer';
  throw new Error(gone() ? 'postgres exited during start-up' : `postgres did not accept connections within ${timeoutMs} ms: ${why}`);
}

/** The server on `port` serves `dataDir` (and not some other cluster that took the port). */
export async function servesDataDir(port: number, dataDir: string): Promise<boolean> {
  const rows = await query<{ data_directory: string }>(port, 'show data_directory').catch(() => []);
  const served = rows[0]?.data_directory;
  return served !== undefined && served === (await realpath(dataDir));
}

/** Fast shutdown (SIGINT: disconnect clients, checkpoint, exit), then wait for the process to go. */
export async function stopPostmaster(pid: number, timeoutMs = 30_000): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      // Immediate shutdown: the next start runs crash recovery, which is safe.
      process.kill(pid, 'SIGQUIT');
      await sleep(500);
      if (processAlive(pid)) throw new Error(`postgres (pid ${pid}) did not stop`);
      return;
    }
    await sleep(50);
  }
}

/** Beside postmaster.pid: which process started the postmaster, so later callers know whose it is. */
const STARTER_FILE = 'embedded-postgres.starter';

interface StarterRecord {
  /** The process that started the server. */
  pid: number;
  /** Its start time, so a later process that reuses the pid is not taken for it (Linux only). */
  since?: string;
  /** The postmaster it started; a record about an earlier postmaster says nothing. */
  postmaster: number;
}

/** Records that this process started `postmasterPid` on `dataDir`. */
export async function recordStarter(dataDir: string, postmasterPid: number): Promise<void> {
  const since = await processStartTime(process.pid);
  const record: StarterRecord = { pid: process.pid, ...(since ? { since } : {}), postmaster: postmasterPid };
  await writeFile(join(dataDir, STARTER_FILE), JSON.stringify(record), { mode: 0o644 });
}

export async function forgetStarter(dataDir: string): Promise<void> {
  await unlink(join(dataDir, STARTER_FILE)).catch(() => undefined);
}

/**
 * The live process that started the postmaster `postmasterPid` on `dataDir` (possibly this one),
 * or undefined when it has exited, e.g. a dev run that was killed, or nothing recorded it.
 */
export async function liveStarter(dataDir: string, postmasterPid: number): Promise<number | undefined> {
  const text = await readFile(join(dataDir, STARTER_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let record: Partial<StarterRecord>;
  try {
    record = JSON.parse(text) as Partial<StarterRecord>;
  } catch {
    return undefined;
  }
  const { pid, since, postmaster } = record;
  if (typeof pid !== 'number' || postmaster !== postmasterPid || !processAlive(pid)) return undefined;
  if (since !== undefined && (await processStartTime(pid)) !== since) return undefined;
  return pid;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined without /proc. */
async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}
