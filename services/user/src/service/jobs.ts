import { JobQueueRef, defineJob } from '@hearth/db';
import { z } from 'zod';

/** The user service's durable job queue (graphile-worker schema users_jobs). */
export const userJobs = new JobQueueRef('users_jobs');

const account = z.object({ userId: z.uuid() });

/** Copies a profile's roles and state to AuthService (SetAccountAccess). */
export const syncAccessJob = defineJob('user:sync-access', account);
/** Takes a deleted account out of every circle (CircleService.RemoveUserFromCircles). */
export const leaveCirclesJob = defineJob('user:leave-circles', account);
/** Erases what a deleted account left in the support service (SupportService.EraseUserData). */
export const eraseSupportJob = defineJob('user:erase-support', account);
/** Purges deleted accounts whose retention ended; run by the schedule, hourly. */
export const purgeJob = defineJob('user:purge', z.unknown());
