import { type Client, Code, ConnectError } from '@connectrpc/connect';
import type { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { defineJob } from '@hearth/db';
import { type JobHandler, PermanentJobError, handle } from '@hearth/platform';
import { z } from 'zod';
import type { Db } from '../store/accounts.js';
import { authJobs } from '../store/jobs.js';

/**
 * Creates the profile of a new account in the user service. The handle and name are kept
 * nowhere else in the auth schema.
 */
export const createProfileJob = defineJob(
  'auth:create-profile',
  z.object({ userId: z.uuid(), handle: z.string(), displayName: z.string() }),
);
export type CreateProfile = z.output<typeof createProfileJob.payload>;

/**
 * One key per account, used as the job key (a second enqueue replaces a pending job instead of
 * adding one) and as CreateUser's idempotency key (every attempt is the same request). The
 * server makes it, so no client-chosen key can collide with another account's.
 */
export function createProfileKey(userId: string): string {
  return `create-profile:${userId}`;
}

/**
 * Adds the profile job in the transaction that creates the account: the profile is created
 * even if the user service is down during Register, and never for a sign-up that rolled back.
 */
export function enqueueCreateProfile(tx: Db, job: CreateProfile): Promise<void> {
  return authJobs.enqueue(tx, createProfileJob, job, { jobKey: createProfileKey(job.userId) });
}

/**
 * The job: CreateUser, which is idempotent by user id and never fails on a taken handle, so
 * running it again after a lost response is safe. The user service being away throws and the
 * queue retries with backoff; the user service refusing the input itself cannot change with a
 * retry, so that is logged and the job dropped (Register checks the same rules first).
 */
export function createProfileHandler(users: () => Client<typeof UserService>): JobHandler<CreateProfile> {
  return handle(createProfileJob, async (job) => {
    try {
      await users().createUser({ userId: job.userId, handle: job.handle, displayName: job.displayName, idempotencyKey: createProfileKey(job.userId) });
    } catch (err) {
      if (ConnectError.from(err).code === Code.InvalidArgument) throw new PermanentJobError(`CreateUser refused the profile: ${(err as Error).message}`);
      throw err;
    }
  });
}
