import { loadServiceConfig } from '@hearth/config';
import { runMain, startHost } from '@hearth/platform';
import { ModerationApp } from './app.js';
import { moderationConfigSpec } from './config.js';

runMain(async () => {
  const config = loadServiceConfig('moderation', moderationConfigSpec, process.env);
  const host = await startHost({ name: 'moderation', config, create: async (runtime) => [ModerationApp.fromConfig(config, runtime)] });
  return { running: host, logger: host.runtime.logger };
});
