import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { SupportApp } from './app.js';
import { supportConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('support', supportConfigSpec, process.env);
  const host = await startHost({ name: 'support', config, create: async (runtime) => [SupportApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
