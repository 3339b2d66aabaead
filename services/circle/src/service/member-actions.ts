import { Code, ConnectError } from '@connectrpc/connect';
import { assertVersion, pageSizeOf } from '@hearth/db';
import { type AuditAction, auditStore } from '../store/audit.js';
import { type BanPosition, banStore } from '../store/bans.js';
import { circleStore } from '../store/circles.js';
import { type MemberPosition, ROLE_RANK, memberStore } from '../store/members.js';
import type { BanRow, CircleRow, Db, MemberRow, Role } from '../store/schema.js';
import { type ServiceDeps, loadCircle } from './deps.js';
import { PendingEvents, memberSnapshot } from './events.js';
import { type Actor, type MemberView, errors, managesCircle, muteOf, seesMutes } from './model.js';

const MEMBERS_PAGE = 50;
const BANS_PAGE = 50;

export interface RoleChange {
  readonly circleId: string;
  readonly userId: string;
  readonly role: Role;
  readonly version: bigint;
}

/** What owners, hosts and platform moderators do to members: roles, removal, bans, mutes. */
export class MemberActions {
  constructor(private readonly d: ServiceDeps) {}

  /** Owner, then hosts, then members, each oldest first. Members and staff only. */
  async list(
    actor: Actor,
    req: { circleId: string; role: Role | undefined; pageSize: number; pageToken: string },
  ): Promise<{ members: MemberView[]; next: string }> {
    const db = this.d.db.db;
    const { circle, me } = await loadCircle(db, req.circleId, actor);
    if (!me && !actor.staff) throw errors.denied('only members of the circle may see its members');
    if (!me) await this.audit(db, actor, 'members.read', circle.id);
    const size = pageSizeOf(req.pageSize, MEMBERS_PAGE);
    const filters = req.role ?? '';
    const token = this.d.pages.members.decode(req.pageToken, filters);
    const after: MemberPosition | undefined = token ? { rank: token.r, time: token.t, id: token.id } : undefined;
    const rows = await memberStore.list(db, circle.id, { ...(req.role ? { role: req.role } : {}), ...(after ? { after } : {}), limit: size + 1 });
    const { items, next } = this.d.pages.members.page(rows, size, (m) => ({ r: ROLE_RANK[m.role], t: m.join_time, id: m.user_id }), filters);
    const managers = seesMutes(me, actor);
    return { members: items.map((m) => ({ member: m, showMute: managers || m.user_id === actor.userId })), next };
  }

  /**
   * Owner or staff. Making someone the owner hands ownership over: the previous owner becomes
   * a host. The owner's own role changes only that way.
   */
  async setRole(actor: Actor, change: RoleChange): Promise<MemberRow> {
    return this.d.db.transaction(async (tx) => {
      const { circle, me } = await loadCircle(tx, change.circleId, actor, { lock: true });
      if (me?.role !== 'owner' && !actor.staff) throw errors.denied('only the owner may change roles');
      if (circle.archive_time) throw errors.archived();
      const target = await memberStore.find(tx, circle.id, change.userId);
      if (!target) throw errors.notMember();
      // A request made against an older version is stale whatever else it asks: reload first.
      assertVersion('membership', target.version, change.version);
      if (target.role === 'owner' && change.role !== 'owner') {
        throw new ConnectError("the owner's role changes only by making someone else the owner", Code.FailedPrecondition);
      }
      if (target.role === change.role) return target;
      const events = new PendingEvents(tx, this.d.bus);
      const now = this.d.now();
      const updated = await memberStore.update(tx, circle.id, target.user_id, { role: change.role });
      events.add({ circleId: circle.id, userId: target.user_id, change: 'role', role: change.role, member: memberSnapshot(updated) });
      if (change.role === 'owner') {
        if (await memberStore.find(tx, circle.id, circle.owner_id)) {
          const previous = await memberStore.update(tx, circle.id, circle.owner_id, { role: 'host' });
          events.add({ circleId: circle.id, userId: circle.owner_id, change: 'role', role: 'host', member: memberSnapshot(previous) });
        }
        await circleStore.update(tx, circle.id, { owner_id: target.user_id }, now);
      }
      await this.audit(tx, actor, 'member.role', circle.id, target.user_id, '', { from: target.role, to: change.role });
      return updated;
    });
  }

  /** With `ban`, a person who is not (or no longer) a member is banned all the same. */
  async remove(actor: Actor, req: { circleId: string; userId: string; ban: boolean; reason: string }): Promise<void> {
    if (req.userId === actor.userId) throw new ConnectError('to remove yourself, leave the circle', Code.FailedPrecondition);
    await this.d.db.transaction(async (tx) => {
      const { circle, me, target } = await this.lockForAction(tx, actor, req.circleId, req.userId);
      if (!target && !req.ban) throw errors.notMember();
      assertOutranks(actor, me, target);
      // Only staff get here for the owner: a circle always has exactly one.
      if (target?.role === 'owner') {
        throw new ConnectError('the owner cannot be removed; ownership must pass to someone else first', Code.FailedPrecondition);
      }
      const now = this.d.now();
      if (target) {
        await memberStore.delete(tx, circle.id, target.user_id);
        await circleStore.addToMemberCount(tx, circle.id, -1);
        await this.d.system.left(tx, circle.id, target.user_id, now);
      }
      const banned = req.ban
        ? await banStore.insert(tx, { circle_id: circle.id, user_id: req.userId, banned_by: actor.userId, reason: req.reason, create_time: now })
        : false;
      await this.audit(tx, actor, req.ban ? 'member.ban' : 'member.remove', circle.id, req.userId, req.reason);
      if (target || banned) new PendingEvents(tx, this.d.bus).add({ circleId: circle.id, userId: req.userId, change: req.ban ? 'banned' : 'removed' });
    });
  }

  /** Unbanning someone who is not banned succeeds. */
  async unban(actor: Actor, circleId: string, userId: string): Promise<void> {
    await this.d.db.transaction(async (tx) => {
      const { circle, me } = await loadCircle(tx, circleId, actor, { lock: true });
      if (!managesCircle(me, actor)) throw errors.denied('only the owner, hosts and moderators may lift bans');
      if (circle.archive_time) throw errors.archived();
      if (!(await banStore.delete(tx, circle.id, userId))) return;
      await this.audit(tx, actor, 'member.unban', circle.id, userId);
      new PendingEvents(tx, this.d.bus).add({ circleId: circle.id, userId, change: 'unbanned' });
    });
  }

  /** Most recent first. Owner, hosts and staff. */
  async listBans(actor: Actor, req: { circleId: string; pageSize: number; pageToken: string }): Promise<{ bans: BanRow[]; next: string }> {
    const db = this.d.db.db;
    const { circle, me } = await loadCircle(db, req.circleId, actor);
    if (!managesCircle(me, actor)) throw errors.denied('only the owner, hosts and moderators may see bans');
    if (!me) await this.audit(db, actor, 'bans.read', circle.id);
    const size = pageSizeOf(req.pageSize, BANS_PAGE);
    const token = this.d.pages.bans.decode(req.pageToken);
    const after: BanPosition | undefined = token ? { time: token.t, id: token.id } : undefined;
    const rows = await banStore.list(db, circle.id, { ...(after ? { after } : {}), limit: size + 1 });
    const { items, next } = this.d.pages.bans.page(rows, size, (b) => ({ t: b.create_time, id: b.user_id }));
    return { bans: items, next };
  }

  /** Muting a muted member replaces the expiry. */
  async mute(actor: Actor, req: { circleId: string; userId: string; durationMs: number; reason: string }): Promise<MemberRow> {
    if (req.userId === actor.userId) throw new ConnectError('you cannot mute yourself', Code.FailedPrecondition);
    return this.d.db.transaction(async (tx) => {
      const { circle, me, target } = await this.lockForAction(tx, actor, req.circleId, req.userId);
      if (!target) throw errors.notMember();
      assertOutranks(actor, me, target);
      const now = this.d.now();
      const until = new Date(now.getTime() + req.durationMs);
      const updated = await memberStore.update(tx, circle.id, target.user_id, { mute_expire_time: until });
      await this.audit(tx, actor, 'member.mute', circle.id, target.user_id, req.reason, { until: until.toISOString() });
      new PendingEvents(tx, this.d.bus).add({ circleId: circle.id, userId: target.user_id, change: 'muted', role: target.role, member: memberSnapshot(updated) });
      return updated;
    });
  }

  /** Unmuting a member who is not muted (or whose mute has run out) returns them unchanged. */
  async unmute(actor: Actor, circleId: string, userId: string): Promise<MemberRow> {
    return this.d.db.transaction(async (tx) => {
      const { circle, me, target } = await this.lockForAction(tx, actor, circleId, userId);
      if (!target) throw errors.notMember();
      assertOutranks(actor, me, target);
      if (!muteOf(target, this.d.now())) return target;
      const updated = await memberStore.update(tx, circle.id, target.user_id, { mute_expire_time: null });
      await this.audit(tx, actor, 'member.unmute', circle.id, target.user_id);
      new PendingEvents(tx, this.d.bus).add({ circleId: circle.id, userId: target.user_id, change: 'unmuted', role: target.role, member: memberSnapshot(updated) });
      return updated;
    });
  }

  /** Locks the circle for a host action on one person: managers only, not in archived circles. */
  private async lockForAction(
    tx: Db,
    actor: Actor,
    circleId: string,
    userId: string,
  ): Promise<{ circle: CircleRow; me: MemberRow | undefined; target: MemberRow | undefined }> {
    const { circle, me } = await loadCircle(tx, circleId, actor, { lock: true });
    if (!managesCircle(me, actor)) throw errors.denied('only the owner, hosts and moderators may do this');
    if (circle.archive_time) throw errors.archived();
    return { circle, me, target: await memberStore.find(tx, circle.id, userId) };
  }

  private async audit(
    db: Db,
    actor: Actor,
    action: AuditAction,
    circleId: string,
    target?: string,
    reason = '',
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await auditStore.insert(db, {
      actor: actor.userId,
      action,
      circleId,
      ...(target ? { target } : {}),
      reason,
      details: actor.staff ? { ...details, staff: true } : details,
      now: this.d.now(),
    });
  }
}

/** Hosts act on members only; the owner on hosts too; staff on anyone. */
function assertOutranks(actor: Actor, me: MemberRow | undefined, target: MemberRow | undefined): void {
  if (!target || actor.staff || target.role === 'member') return;
  if (me?.role === 'owner' && target.role === 'host') return;
  throw errors.denied('hosts may not act on the owner or other hosts');
}
