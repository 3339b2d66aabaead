import { type Client, Code, ConnectError } from '@connectrpc/connect';
import type { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_pb.js';
import type { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_pb.js';
import type { Database } from '@hearth/db';
import { type JobTask, enqueueJob } from '@hearth/platform';
import type { Kysely } from 'kysely';
import { profileStore } from '../store/profiles.js';
import type { UsersTables } from '../store/schema.js';
import { ROLE_TO_PROTO, STATE_TO_PROTO, normalizeRoles } from './model.js';

/** The durable tasks of the user service's job queue (colons: graphile-worker's crontab allows no dots). */
export const TASKS = {
  /** Copies a profile's roles and state to AuthService (SetAccountAccess). */
  syncAccess: 'user:sync-access',
  /** Takes a deleted account out of every circle (CircleService.RemoveUserFromCircles). */
  leaveCircles: 'user:leave-circles',
  /** Purges deleted accounts whose retention ended (crontab). */
  purge: 'user:purge',
} as const;

export interface SyncLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AccountSyncDeps {
  readonly db: Database<UsersTables>;
  /** The job queue's schema. */
  readonly jobs: string;
  readonly auth: () => Client<typeof AuthService>;
  readonly circle: () => Client<typeof CircleService>;
  readonly logger: SyncLogger;
}

/**
 * Brings what other services hold in line with a profile. Roles and state are owned here;
 * AuthService keeps a copy to mint tokens from and to refuse sign-in. Every change is enqueued
 * in the transaction that makes it (so it is never lost) and also tried at once after commit
 * (so sessions end now, not at the next job poll); the job is the retry.
 */
export class AccountSync {
  constructor(private readonly d: AccountSyncDeps) {}

  /**
   * The task sends what the profile says when it runs, not what it said when enqueued, so
   * retries and out-of-order runs converge on the latest state; the key collapses pending ones.
   */
  async enqueueAccess(trx: Kysely<UsersTables>, userId: string): Promise<void> {
    await enqueueJob(trx, this.d.jobs, TASKS.syncAccess, { userId }, { jobKey: `access:${userId}` });
  }

  async enqueueLeaveCircles(trx: Kysely<UsersTables>, userId: string): Promise<void> {
    await enqueueJob(trx, this.d.jobs, TASKS.leaveCircles, { userId }, { jobKey: `circles:${userId}` });
  }

  async syncAccess(userId: string): Promise<void> {
    const row = await profileStore.findById(this.d.db.db, userId);
    if (!row) return;
    try {
      await this.d.auth().setAccountAccess({
        userId,
        roles: normalizeRoles(row.roles).map((r) => ROLE_TO_PROTO[r]),
        state: STATE_TO_PROTO[row.state],
      });
    } catch (err) {
      const code = ConnectError.from(err).code;
      // Nothing to take away from an account auth does not have, and a deleted account stays
      // deleted there: retrying could not change either answer.
      if (code === Code.NotFound || code === Code.FailedPrecondition) {
        this.d.logger.warn({ userId, code: Code[code] }, 'account access not copied to auth; not retrying');
        return;
      }
      throw err;
    }
  }

  /** After commit: the immediate attempt. A failure is only logged; the queued job retries. */
  async syncAccessNow(userId: string): Promise<void> {
    try {
      await this.syncAccess(userId);
    } catch (err) {
      this.d.logger.warn({ userId, err: { message: (err as Error).message } }, 'account access sync failed; the job queue retries');
    }
  }

  async leaveCircles(userId: string): Promise<void> {
    await this.d.circle().removeUserFromCircles({ userId });
  }

  tasks(): Record<string, JobTask> {
    return {
      [TASKS.syncAccess]: async (payload) => this.syncAccess(userIdOf(payload)),
      [TASKS.leaveCircles]: async (payload) => this.leaveCircles(userIdOf(payload)),
    };
  }
}

function userIdOf(payload: unknown): string {
  const userId = (payload as { userId?: unknown } | null)?.userId;
  if (typeof userId !== 'string') throw new Error('job payload has no userId');
  return userId;
}
