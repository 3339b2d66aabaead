import { JobQueueRef, defineJob } from '@hearth/db';
import { z } from 'zod';

/** The post service's durable job queue (graphile-worker schema posts_jobs). */
export const postJobs = new JobQueueRef('posts_jobs');

/** Purges deleted posts past their retention and expired posts; run by the schedule. */
export const purgeJob = defineJob('post:purge', z.unknown());
