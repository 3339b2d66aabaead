import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { CircleApp } from './app.js';
import { circleConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('circle', circleConfigSpec, process.env);
  const host = await startHost({ name: 'circle', config, create: async (runtime) => [CircleApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
