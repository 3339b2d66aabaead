import { type Client, Code, ConnectError } from '@connectrpc/connect';
import type { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import type { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import type { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import type { Database } from '@hearth/db';
import { type JobHandler, PermanentJobError, handle } from '@hearth/platform';
import type { Kysely } from 'kysely';
import { profileStore } from '../store/profiles.js';
import type { UsersTables } from '../store/schema.js';
import { eraseSupportJob, leaveCirclesJob, syncAccessJob, userJobs } from './jobs.js';
import { ROLE_TO_PROTO, STATE_TO_PROTO, normalizeRoles } from './model.js';

export interface SyncLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AccountSyncDeps {
  readonly db: Database<UsersTables>;
  readonly auth: () => Client<typeof AuthService>;
  readonly circle: () => Client<typeof CircleService>;
  readonly support: () => Client<typeof SupportService>;
  readonly logger: SyncLogger;
}

/** How long the sync-access job waits: it is the retry of the attempt made right after commit. */
export const ACCESS_RETRY_DELAY_MS = 30_000;

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
  async enqueueAccess(tx: Kysely<UsersTables>, userId: string): Promise<void> {
    // Due only after the immediate attempt had its chance: due at once, the worker would take it
    // at commit and race that attempt to AuthService for nothing.
    const runAt = new Date(Date.now() + ACCESS_RETRY_DELAY_MS);
    await userJobs.enqueue(tx, syncAccessJob, { userId }, { jobKey: `access:${userId}`, runAt });
  }

  async enqueueLeaveCircles(tx: Kysely<UsersTables>, userId: string): Promise<void> {
    await userJobs.enqueue(tx, leaveCirclesJob, { userId }, { jobKey: `circles:${userId}` });
    // What the account left in the support service goes too (safety plan, requests, offers).
    await userJobs.enqueue(tx, eraseSupportJob, { userId }, { jobKey: `support:${userId}` });
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

  handlers(): Array<JobHandler<{ userId: string }>> {
    return [
      handle(syncAccessJob, (p) => this.syncAccess(p.userId)),
      handle(leaveCirclesJob, async (p) => {
        try {
          await this.leaveCircles(p.userId);
        } catch (err) {
          // The circle service refused the request itself: no retry can change that.
          if (ConnectError.from(err).code === Code.InvalidArgument) throw new PermanentJobError(`RemoveUserFromCircles refused: ${(err as Error).message}`);
          throw err;
        }
      }),
      handle(eraseSupportJob, async (p) => {
        try {
          await this.d.support().eraseUserData({ userId: p.userId });
        } catch (err) {
          if (ConnectError.from(err).code === Code.InvalidArgument) throw new PermanentJobError(`EraseUserData refused: ${(err as Error).message}`);
          throw err;
        }
      }),
    ];
  }
}
