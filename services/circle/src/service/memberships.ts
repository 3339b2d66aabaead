import { Code, ConnectError } from '@connectrpc/connect';
import type { Caller, CircleAccess } from '@hearth/authz';
import { isStaff } from '@hearth/authz';
import { banStore } from '../store/bans.js';
import { type AccessRow, circleStore } from '../store/circles.js';
import { inviteStore } from '../store/invites.js';
import { memberStore } from '../store/members.js';
import type { InviteRow } from '../store/schema.js';
import type { ServiceDeps } from './deps.js';
import { PendingEvents, memberSnapshot } from './events.js';
import { assertUsable, inviteErrors } from './invites.js';
import { type Actor, type CircleView, errors, muteOf } from './model.js';

/** GetMembership.max_age: as long as the host caches keep an answer. */
export const MEMBERSHIP_MAX_AGE_MS = 5_000;
/** ListUserCircleIds lists at most this many circles (circle_service.proto). */
export const USER_CIRCLE_IDS_MAX = 1_000;

export type JoinTarget = { readonly circleId: string } | { readonly inviteCode: string };

/** One user's standing in one circle; `mutedUntil` only while the mute lasts. */
export interface Standing extends CircleAccess {
  readonly circleId: string;
  readonly userId: string;
  readonly mutedUntil: Date | undefined;
}

/** Joining and leaving, and what the authorization layer asks about them. */
export class Memberships {
  constructor(private readonly d: ServiceDeps) {}

  /**
   * Joins a public circle by id, or any circle with a usable invite. Already being a member
   * returns the membership and leaves the invite unused. The cap and the invite's use count are
   * checked under the circle's row lock, so concurrent joins cannot pass them together.
   */
  async join(actor: Actor, target: JoinTarget): Promise<CircleView> {
    return this.d.db.transaction(async (tx) => {
      let invite: InviteRow | undefined;
      let circleId: string;
      if ('inviteCode' in target) {
        invite = await inviteStore.find(tx, target.inviteCode);
        if (!invite) throw inviteErrors.notFound();
        circleId = invite.circle_id;
      } else {
        circleId = target.circleId;
      }
      const circle = await circleStore.find(tx, circleId, { forUpdate: true });
      if (!circle) throw invite ? inviteErrors.notFound() : errors.circleNotFound();
      const existing = await memberStore.find(tx, circleId, actor.userId);
      if (existing) return { circle, me: existing };
      if (invite) {
        // Read again under the lock: the use count may have grown while this call waited.
        invite = await inviteStore.find(tx, invite.code);
        if (!invite || invite.revoke_time) throw inviteErrors.notFound();
      } else if (circle.visibility === 'private') {
        throw errors.circleNotFound();
      }
      if (await banStore.find(tx, circleId, actor.userId)) throw inviteErrors.banned();
      const now = this.d.now();
      if (invite) assertUsable(invite, now);
      if (circle.archive_time) throw errors.archived();
      if (circle.member_count >= circle.member_cap) throw new ConnectError('the circle is full', Code.FailedPrecondition);
      const me = await memberStore.insert(tx, { circleId, userId: actor.userId, role: 'member', now });
      await circleStore.addToMemberCount(tx, circleId, 1);
      if (invite) await inviteStore.use(tx, invite.code);
      await this.d.system.joined(tx, circleId, actor.userId, circle.guidelines, now);
      new PendingEvents(tx, this.d.bus).add({ circleId, userId: actor.userId, change: 'joined', role: 'member', member: memberSnapshot(me) });
      return { circle: { ...circle, member_count: circle.member_count + 1 }, me };
    });
  }

  /**
   * Leaving a circle one is not in (or that does not exist) succeeds. The owner may leave only
   * as the last member, and then the circle is archived.
   */
  async leave(actor: Actor, circleId: string): Promise<void> {
    await this.d.db.transaction(async (tx) => {
      const circle = await circleStore.find(tx, circleId, { forUpdate: true });
      if (!circle) return;
      const me = await memberStore.find(tx, circleId, actor.userId);
      if (!me) return;
      if (me.role === 'owner' && circle.member_count > 1) {
        throw new ConnectError(
          'the owner cannot leave while others remain; make someone else the owner first (SetMemberRole)',
          Code.FailedPrecondition,
        );
      }
      const events = new PendingEvents(tx, this.d.bus);
      const now = this.d.now();
      await memberStore.delete(tx, circleId, actor.userId);
      await circleStore.addToMemberCount(tx, circleId, -1);
      await this.d.system.left(tx, circleId, actor.userId, now);
      events.add({ circleId, userId: actor.userId, change: 'left' });
      if (me.role === 'owner' && !circle.archive_time) {
        await circleStore.update(tx, circleId, { archive_time: now }, now);
        events.add({ circleId, userId: actor.userId, change: 'archived' });
      }
    });
  }

  /**
   * GetMembership. A person asking about themself learns nothing of a private circle they are
   * not in (NotFound, as everywhere); other services and staff get the whole answer.
   */
  async get(caller: Caller, circleId: string, userId: string): Promise<Standing> {
    assertMayAsk(caller, userId);
    const access = await circleStore.access(this.d.db.db, circleId, userId);
    if (!access || hiddenFrom(caller, access)) throw errors.circleNotFound();
    return this.standing(circleId, userId, access);
  }

  /** BatchGetMemberships: circles that do not exist (or are hidden from the caller) are left out. */
  async getMany(caller: Caller, userId: string, circleIds: readonly string[]): Promise<Standing[]> {
    assertMayAsk(caller, userId);
    const found = await circleStore.accessMany(this.d.db.db, circleIds, userId);
    return [...found].filter(([, a]) => !hiddenFrom(caller, a)).map(([id, a]) => this.standing(id, userId, a));
  }

  /** ListUserCircleIds: the user's circles, most recently joined first, at most `max`. */
  async circleIds(caller: Caller, userId: string, max: number): Promise<{ circleIds: string[]; truncated: boolean }> {
    assertMayAsk(caller, userId);
    const ids = await memberStore.recentCircleIdsOf(this.d.db.db, userId, max + 1);
    return { circleIds: ids.slice(0, max), truncated: ids.length > max };
  }

  private standing(circleId: string, userId: string, a: AccessRow): Standing {
    return {
      circleId,
      userId,
      role: a.role ?? undefined,
      banned: a.banned,
      visibility: a.visibility,
      archived: a.archived,
      mutedUntil: a.role ? muteOf({ mute_expire_time: a.muteExpireTime }, this.d.now()) : undefined,
    };
  }
}

/** Users may ask only about themselves (the rule says so too; this holds without it). */
function assertMayAsk(caller: Caller, userId: string): void {
  if (caller.kind === 'user' && caller.identity.userId !== userId) {
    throw new ConnectError('you may only ask about yourself', Code.PermissionDenied);
  }
}

function hiddenFrom(caller: Caller, a: AccessRow): boolean {
  return caller.kind === 'user' && !isStaff(caller.identity) && a.visibility === 'private' && !a.role;
}
