// The system under fuzz, in a process of its own: a crash then shows as this process exiting
// (and the fuzzer names the case in flight) instead of taking the fuzzer down with it. It is
// startSystem unchanged; the parent passes the environment and learns the URL over IPC.
import { runMain } from '@hearth/platform';
import { startSystem } from '../system.js';

runMain(async () => {
  const system = await startSystem({ env: process.env });
  process.send?.({ url: system.url });
  return {
    logger: system.runtime.logger,
    running: {
      async close() {
        await system.close();
        // The IPC channel would keep the process alive after the system closed.
        process.disconnect?.();
      },
    },
  };
});
