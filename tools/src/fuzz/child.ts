import { type ChildProcess, spawn } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The system running in a child process (see serve.ts). */
export interface SystemProcess {
  readonly url: string;
  /** Undefined while the process runs; how it ended otherwise. */
  exited(): string | undefined;
  /** The last lines the process wrote, for a report after a crash. */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const KEEP_LINES = 200;
const START_TIMEOUT_MS = 60_000;

/**
 * Starts serve.ts with `env` and resolves once the system listens. From source (tsx) the child
 * gets the same loader and export condition; from dist it runs the compiled file.
 */
export async function spawnSystem(env: Record<string, string | undefined>): Promise<SystemProcess> {
  const here = fileURLToPath(import.meta.url);
  const fromSource = extname(here) === '.ts';
  const entry = fileURLToPath(new URL(`./serve${extname(here)}`, import.meta.url));
  const args = fromSource ? ['--conditions=@hearth/source', '--import', 'tsx', entry] : [entry];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exit: string | undefined;
  const ended = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`system did not start in ${START_TIMEOUT_MS} ms:\n${lines.join('\n')}`)), START_TIMEOUT_MS);
    child.once('message', (m: { url?: string }) => {
      clearTimeout(timer);
      if (typeof m.url === 'string') resolve(m.url);
      else reject(new Error(`unexpected message from the system process: ${JSON.stringify(m)}`));
    });
    void ended.then(() => {
      clearTimeout(timer);
      reject(new Error(`system process ${exit ?? 'ended'} before listening:\n${lines.join('\n')}`));
    });
  });

  return {
    url,
    exited: () => exit,
    output: () => lines.join('\n'),
    stop: (graceMs = 15_000) => stopChild(child, ended, graceMs),
  };
}

async function stopChild(child: ChildProcess, ended: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await ended;
  clearTimeout(timer);
}
