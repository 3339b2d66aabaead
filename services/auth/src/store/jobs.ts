import { type EnqueueOptions, enqueueJob } from '@hearth/platform';
import type { Db } from './accounts.js';

/** The Postgres schema of this service's durable job queue (graphile-worker). */
export const JOBS_SCHEMA = 'auth_jobs';

/** The auth job queue: jobs are added in the caller's transaction, so they exist exactly when the change does. */
export const jobStore = {
  async enqueue(db: Db, task: string, payload: Record<string, unknown>, opts: EnqueueOptions = {}): Promise<void> {
    await enqueueJob(db, JOBS_SCHEMA, task, payload, opts);
  },
};
