import type { Client } from '@connectrpc/connect';
import type { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';
import type { JobTask } from '@hearth/platform';
import type { Db } from '../store/accounts.js';
import { jobStore } from '../store/jobs.js';

/** Creates the profile of a new account in the user service. */
export const CREATE_PROFILE_TASK = 'user.create-profile';

/** What the job carries; the handle and name are kept nowhere else in the auth schema. */
export interface CreateProfileJob {
  readonly userId: string;
  readonly handle: string;
  readonly displayName: string;
}

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
export function enqueueCreateProfile(trx: Db, job: CreateProfileJob): Promise<void> {
  const payload = { userId: job.userId, handle: job.handle, displayName: job.displayName };
  return jobStore.enqueue(trx, CREATE_PROFILE_TASK, payload, { jobKey: createProfileKey(job.userId) });
}

/**
 * The job: CreateUser, which is idempotent by user id and never fails on a taken handle, so
 * running it again after a lost response is safe. Any failure throws and the queue retries
 * with backoff.
 */
export function createProfileTask(users: () => Client<typeof UserService>): JobTask {
  return async (payload) => {
    const job = parseJob(payload);
    await users().createUser({ userId: job.userId, handle: job.handle, displayName: job.displayName, idempotencyKey: createProfileKey(job.userId) });
  };
}

function parseJob(payload: unknown): CreateProfileJob {
  const p = (payload ?? {}) as Partial<Record<keyof CreateProfileJob, unknown>>;
  if (typeof p.userId !== 'string' || typeof p.handle !== 'string' || typeof p.displayName !== 'string') {
    // Only a bug writes such a job; the message names the fields, never their values.
    throw new Error('user.create-profile job without userId, handle and displayName strings');
  }
  return { userId: p.userId, handle: p.handle, displayName: p.displayName };
}
