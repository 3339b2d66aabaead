import { JobQueueRef } from '@hearth/db';

/** The auth service's durable job queue (graphile-worker schema auth_jobs). */
export const authJobs = new JobQueueRef('auth_jobs');
