import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { AuthApp } from './app.js';
import { authConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('auth', authConfigSpec, process.env);
  const host = await startHost({ name: 'auth', config, create: async (runtime) => [AuthApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
