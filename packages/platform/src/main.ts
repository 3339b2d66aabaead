import { ConfigError } from '@hearth/config';

export interface Closeable {
  close(): Promise<void>;
}

interface MinimalLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs a process entry: `start` builds and starts everything and returns what must be closed.
 * SIGTERM/SIGINT close it once (drain, close pools) and let the process exit on its own with
 * code 0; a failure to start sets exit code 1. A ConfigError is printed as the list it is.
 * Nothing else in Hearth ends the process.
 */
export function runMain(start: () => Promise<{ running: Closeable; logger: MinimalLogger }>): void {
  start().then(
    ({ running, logger }) => {
      let closing = false;
      const stop = (signal: NodeJS.Signals) => {
        if (closing) return;
        closing = true;
        logger.info({ signal }, 'shutting down');
        running.close().then(
          () => logger.info({}, 'stopped'),
          (err: unknown) => {
            logger.error({ err }, 'error during shutdown');
            process.exitCode = 1;
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
      } else {
        process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      }
      process.exitCode = 1;
    },
  );
}
