import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { PostApp } from './app.js';
import { postConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('post', postConfigSpec, process.env);
  const host = await startHost({ name: 'post', config, create: async (runtime) => [PostApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
