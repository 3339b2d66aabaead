// `npm run migrate [-- --service <name>]`: brings every service's schema (or one) to the latest
// version. Safe to run from several replicas at once: each schema migrates under an advisory lock.
import { serviceNames } from '@hearth/config';
import { createHostAuthentication, createHostAuthorization, createRuntime, runMain } from '@hearth/platform';
import { parseArgs } from 'node:util';
import { loadSystem } from './system.js';

runMain(async () => {
  const { values } = parseArgs({ options: { service: { type: 'string' } } });
  const only = values.service;
  if (only !== undefined && !(serviceNames as readonly string[]).includes(only)) {
    throw new Error(`unknown service "${only}"; expected one of ${serviceNames.join(', ')}`);
  }
  const { shared, factories } = loadSystem(process.env);
  // Migrations touch Postgres only; no Redis connection for a one-shot job.
  const base = createRuntime('migrate', { ...shared, redis: { url: undefined } });
  // The session deny-list's record (schema authz), which every service reads.
  const authorization = createHostAuthorization({ name: 'migrate', config: shared, runtime: base, modules: () => [], selfUrl: () => undefined });
  const authentication = createHostAuthentication({
    config: shared,
    runtime: base,
    modules: () => [],
    selfUrl: () => undefined,
    serviceTokens: authorization.serviceTokens,
  });
  const runtime = {
    ...base,
    authentication,
    serviceClient: authorization.serviceClient,
    serviceTokens: authorization.serviceTokens,
    authorization: authorization.sources,
  };
  try {
    await authentication.migrate();
    runtime.logger.info({ schema: 'authz' }, 'migrated');
    for (const [name, create] of Object.entries(factories)) {
      if (only !== undefined && name !== only) continue;
      const service = create(runtime);
      try {
        await service.migrate();
        runtime.logger.info({ service: name }, 'migrated');
      } finally {
        await service.close();
      }
    }
  } finally {
    await authentication.close();
    authorization.close();
    await runtime.close();
  }
  return { logger: runtime.logger, running: { close: async () => undefined } };
});
