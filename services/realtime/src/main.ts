import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { RealtimeApp } from './app.js';
import { realtimeConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('realtime', realtimeConfigSpec, process.env);
  const host = await startHost({ name: 'realtime', config, create: async (runtime) => [RealtimeApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
