import { Code, ConnectError } from '@connectrpc/connect';
import { type Identity, isStaff } from '@hearth/authz';
import type { CircleRow, MemberRow, Role } from '../store/schema.js';

/** The domain's records, as the store reads them; handlers map them to messages (rpc/mappers.ts). */
export type { BanRow, CircleRow, InviteRow, MemberRow, Role, Visibility } from '../store/schema.js';

/** A signed-in person acting on circles; `staff` (moderator or admin) may act on every circle. */
export interface Actor {
  readonly userId: string;
  readonly staff: boolean;
}

export function actorOf(identity: Identity): Actor {
  return { userId: identity.userId, staff: isStaff(identity) };
}

/** A circle as one person sees it: with their own membership, if any. */
export interface CircleView {
  readonly circle: CircleRow;
  readonly me: MemberRow | undefined;
}

/** A member as one person sees them: the mute is shown only to those who may know of it. */
export interface MemberView {
  readonly member: MemberRow;
  readonly showMute: boolean;
}

/** A mute whose time has passed is simply not a mute: nothing needs to clear it. */
export function muteOf(m: Pick<MemberRow, 'mute_expire_time'>, now: Date): Date | undefined {
  return m.mute_expire_time && m.mute_expire_time > now ? m.mute_expire_time : undefined;
}

/** Hosts and owners manage a circle; platform moderators may do what they may. */
export function managesCircle(me: MemberRow | undefined, actor: Actor): boolean {
  return actor.staff || me?.role === 'owner' || me?.role === 'host';
}

/** Owner, hosts, staff and the member themself may know a member is muted (resources.proto). */
export function seesMutes(me: MemberRow | undefined, actor: Actor): boolean {
  return managesCircle(me, actor);
}

export function isManager(role: Role | undefined): boolean {
  return role === 'owner' || role === 'host';
}

export const errors = {
  // Deliberately the same words as the authorization layer's, so nothing tells a hidden
  // private circle from a missing one.
  circleNotFound: () => new ConnectError('circle not found', Code.NotFound),
  archived: () => new ConnectError('the circle is archived: it is read-only', Code.FailedPrecondition),
  notMember: () => new ConnectError('the user is not a member of this circle', Code.NotFound),
  denied: (what: string) => new ConnectError(what, Code.PermissionDenied),
};
