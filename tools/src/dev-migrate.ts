// `npm run migrate [-- --service <name>]` on a development machine: the same migrations as the
// image's, with what `npm run dev` keeps filled in when it is not set: the dev database
// (.hearth/dev-pg, started for the run if it is not running, and stopped again) and the keys
// in .hearth/dev-secrets.json.
import { runMain } from '@hearth/platform';
import { startEmbeddedPostgres } from '@hearth/testkit';
import { fileURLToPath } from 'node:url';
import { devSecrets } from './dev-secrets.js';
import { migrate } from './migrate.js';

const DEV_DATA = fileURLToPath(new URL('../../.hearth/dev-pg', import.meta.url));
const DEV_DATABASE = 'hearth';

runMain(async () => {
  const env: Record<string, string | undefined> = { ...process.env };
  let stop: (() => Promise<void>) | undefined;
  if (!env.DATABASE_URL) {
    // Attaches to the server of a running `npm run dev` (and then leaves it running).
    const server = await startEmbeddedPostgres({ dataDir: DEV_DATA, database: DEV_DATABASE });
    env.DATABASE_URL = server.url;
    stop = () => server.stop();
    process.stdout.write(`migrating the dev database (.hearth/dev-pg, port ${server.port})\n`);
  }
  const secrets = await devSecrets();
  env.HEARTH_AUTH_KEY_ENCRYPTION_KEY ??= secrets.authKeyEncryptionKey;
  env.HEARTH_INTERNAL_SECRET ??= secrets.internalSecret;
  env.HEARTH_CIRCLE_MESSAGE_KEYS ??= secrets.circleMessageKeys;
  env.HEARTH_POST_BODY_KEYS ??= secrets.postBodyKeys;
  env.HEARTH_SUPPORT_PLAN_KEYS ??= secrets.supportPlanKeys;
  try {
    await migrate(process.argv.slice(2), env);
  } finally {
    await stop?.();
  }
  return { logger: { info: () => undefined, error: () => undefined }, running: { close: async () => undefined } };
});
