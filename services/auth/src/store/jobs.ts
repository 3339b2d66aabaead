import { type EnqueueOptions, enqueueJob } from '@hearth/platform';
import type { Kysely } from 'kysely';
import type { Db } from './accounts.js';

/** The Postgres schema of this service's durable job queue (graphile-worker). */
export const JOBS_SCHEMA = 'auth_jobs';

/** The auth job queue: jobs are added in the caller's transaction, so they exist exactly when the change does. */
export const jobStore = {
  async enqueue(db: Db, task: string, payload: Record<string, unknown>, opts: EnqueueOptions = {}): Promise<void> {
    // enqueueJob only runs one raw statement on the executor; Kysely's table types are
    // invariant, so an executor typed for our tables is not a Kysely<unknown> to the compiler.
    await enqueueJob(db as unknown as Kysely<unknown>, JOBS_SCHEMA, task, payload, opts);
  },
};
