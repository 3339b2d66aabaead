// `npm run migrate [-- --service <name>]`: brings every service's schema (or one) to the latest
// version. Safe to run from several replicas at once: each schema migrates under an advisory lock.
import { serviceNames } from '@hearth/config';
import { StartupError, createRuntime, runMain } from '@hearth/platform';
import { parseArgs } from 'node:util';
import { allServices, loadSystem } from './system.js';

runMain(async () => {
  const { values } = parseArgs({ options: { service: { type: 'string' } } });
  const only = values.service;
  if (only !== undefined && !allServices.some((s) => s.name === only)) {
    throw new StartupError(`unknown service "${only}"; expected one of ${serviceNames.filter((n) => allServices.some((s) => s.name === n)).join(', ')}`);
  }
  const { shared, services } = loadSystem(process.env, only === undefined ? allServices : allServices.filter((s) => s.name === only));
  // Migrations touch Postgres only; no Redis connection for a one-shot job.
  const runtime = createRuntime({ name: 'migrate', config: { ...shared, redis: { url: undefined } }, hosted: serviceNames });
  try {
    // The session deny-list's record (schema authz), which every service reads.
    await runtime.migrate();
    runtime.logger.info({ schema: 'authz' }, 'migrated');
    for (const s of services) {
      const module = s.create(runtime);
      try {
        await module.migrate();
        runtime.logger.info({ service: s.name }, 'migrated');
      } finally {
        await module.close();
      }
    }
  } finally {
    await runtime.close();
  }
  return { logger: runtime.logger, running: { close: async () => undefined } };
});
