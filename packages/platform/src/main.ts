import { ConfigError, loadServiceConfig } from '@hearth/config';
import type { ConfigSpec } from '@hearth/config';
import type { ServiceDefinition } from './contract.js';
import { startHost } from './host.js';
import { StartupError } from './startup-error.js';

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
 * code 0; a failure to start sets exit code 1. Configuration and startup problems print as
 * messages; anything else (a bug) with its stack. Nothing else in Hearth ends the process.
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
      process.stderr.write(`${describeStartFailure(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** What a failed start prints: the message for problems an operator fixes, the stack for bugs. */
export function describeStartFailure(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  if (err instanceof StartupError) return `cannot start: ${err.message}`;
  const code = (err as { code?: unknown } | null)?.code;
  // Listening failed (port taken, no permission): the operator's to fix.
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') return `cannot start: ${(err as Error).message}`;
  return `failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

/** The whole of a service's main.ts: its configuration, one host, signals. */
export function runService<S extends ConfigSpec>(definition: ServiceDefinition<S, never>): void {
  runMain(async () => {
    const config = loadServiceConfig(definition.name, definition.configSpec, process.env, definition.configChecks ?? [], { alone: true });
    const host = await startHost({ name: definition.name, config, services: [{ name: definition.name, create: (runtime) => definition.create(config, runtime) }] });
    return { running: host, logger: host.runtime.logger };
  });
}
