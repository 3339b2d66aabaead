// `npm run migrate [-- --service <name>]`: brings every service's schema (or one) to the latest
// version. Safe to run from several replicas at once: each schema migrates under an advisory lock.
import { StartupError, migrateServices, runMain } from '@hearth/platform';
import { createLogger } from '@hearth/telemetry';
import { parseArgs } from 'node:util';
import { allServices, loadSystem } from './system.js';

runMain(async () => {
  const { values } = parseArgs({ options: { service: { type: 'string' } } });
  const only = values.service;
  if (only !== undefined && !allServices.some((s) => s.name === only)) {
    throw new StartupError(`unknown service "${only}"; expected one of ${allServices.map((s) => s.name).join(', ')}`);
  }
  const { shared, services } = loadSystem(process.env, only === undefined ? allServices : allServices.filter((s) => s.name === only));
  const logger = createLogger({ service: 'migrate', level: shared.telemetry.logLevel });
  await migrateServices({ name: 'migrate', config: shared, services, onMigrated: (name) => logger.info({ schema: name }, 'migrated') });
  return { logger, running: { close: async () => undefined } };
});
