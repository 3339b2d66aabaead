// `node tools/dist/src/migrate.js [--service <name>]` (the image's `migrate`, the Helm migration
// Job): brings every service's schema (or one) to the latest version. Safe to run from several
// replicas at once: each schema migrates under an advisory lock. `npm run migrate` runs
// dev-migrate.ts, which fills in the dev database and keys first.
import { StartupError, migrateServices, runMain } from '@hearth/platform';
import { createLogger } from '@hearth/telemetry';
import { parseArgs } from 'node:util';
import { allServices, loadSystem } from './system.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Migrates the schemas `args` name (all by default) with the configuration in `env`. */
export async function migrate(args: readonly string[], env: Env): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { service: { type: 'string' } } });
  const only = values.service;
  if (only !== undefined && !allServices.some((s) => s.name === only)) {
    throw new StartupError(`unknown service "${only}"; expected one of ${allServices.map((s) => s.name).join(', ')}`);
  }
  const { shared, services } = loadSystem(env, only === undefined ? allServices : allServices.filter((s) => s.name === only));
  const logger = createLogger({ service: 'migrate', level: shared.telemetry.logLevel });
  await migrateServices({ name: 'migrate', config: shared, services, onMigrated: (name) => logger.info({ schema: name }, 'migrated') });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(async () => {
    await migrate(process.argv.slice(2), process.env);
    return { logger: { info: () => undefined, error: () => undefined }, running: { close: async () => undefined } };
  });
}
