// Runs once per `npm test`, before any test file: finds PostgreSQL and Redis for the run
// (machine servers, containers where Docker runs, embedded Postgres), see @hearth/testkit.
// Relative: the global setup runs in vitest's own process, before the source conditions apply.
import { provideTestServices } from './packages/testkit/src/containers.js';

let stop: (() => Promise<void>) | undefined;

export async function setup(): Promise<void> {
  stop = await provideTestServices((line) => process.stdout.write(`${line}\n`));
}

export async function teardown(): Promise<void> {
  await stop?.();
}
