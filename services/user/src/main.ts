import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { UserApp } from './app.js';
import { userConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('user', userConfigSpec, process.env);
  const host = await startHost({ name: 'user', config, create: async (runtime) => [UserApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
