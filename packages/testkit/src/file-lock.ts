import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when a process with this pid exists (EPERM means it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding an exclusive lock file shared by every process on this machine.
 * Node has no flock(2); an O_EXCL create holding our pid does the job, and a lock whose
 * holder died (e.g. a test process killed mid start-up) is taken over.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    // An empty file older than a few seconds: its creator died between create and write.
    const empty = Number.isNaN(holder) && Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now()) > 5_000;
    if (empty || (holder > 0 && !processAlive(holder))) {
      // Re-read right before removing, so we do not delete a lock another waiter just took over.
      const again = await readFile(path, 'utf8').catch(() => '');
      if (again === (empty ? '' : String(holder))) await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for lock ${path} (held by pid ${holder})`);
    await sleep(100);
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
