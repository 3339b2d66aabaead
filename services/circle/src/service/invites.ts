import { Code, ConnectError } from '@connectrpc/connect';
import { pageSizeOf } from '@hearth/db';
import { banStore } from '../store/bans.js';
import { circleStore } from '../store/circles.js';
import { type InvitePosition, inviteStore } from '../store/invites.js';
import { memberStore } from '../store/members.js';
import type { Db, InviteRow } from '../store/schema.js';
import { type ServiceDeps, loadCircle } from './deps.js';
import { newInviteCode } from './invite-codes.js';
import { type Actor, type CircleView, errors, isManager } from './model.js';

/** circle_service.proto: CreateInvite fails with ResourceExhausted past this many usable invites. */
export const MAX_ACTIVE_INVITES = 100;
/** CreateInviteRequest.ttl unset. */
export const DEFAULT_INVITE_TTL_MS = 7 * 86_400_000;
const INVITES_PAGE = 50;

export interface NewInvite {
  readonly circleId: string;
  readonly ttlMs: number | undefined;
  readonly maxUses: number;
  readonly idempotencyKey: string;
}

export const inviteErrors = {
  // Unknown and revoked read the same: a code says nothing about circles it does not open.
  notFound: () => new ConnectError('invite not found', Code.NotFound),
  expired: () => new ConnectError('the invite has expired', Code.FailedPrecondition),
  usedUp: () => new ConnectError('the invite has been used up', Code.FailedPrecondition),
  banned: () => new ConnectError('you are banned from this circle', Code.PermissionDenied),
};

/** The invite behind a code, or NotFound when there is none or it was revoked. */
export async function findLiveInvite(db: Db, code: string): Promise<InviteRow> {
  const invite = await inviteStore.find(db, code);
  if (!invite || invite.revoke_time) throw inviteErrors.notFound();
  return invite;
}

/** FailedPrecondition when the invite can no longer be used at `now`. */
export function assertUsable(invite: InviteRow, now: Date): void {
  if (invite.expire_time <= now) throw inviteErrors.expired();
  if (invite.max_uses > 0 && invite.use_count >= invite.max_uses) throw inviteErrors.usedUp();
}

/** Invite codes: created and revoked by owners and hosts, previewed by anyone who has one. */
export class Invites {
  constructor(private readonly d: ServiceDeps) {}

  /** Idempotent by the creator's key within the circle. */
  async create(actor: Actor, input: NewInvite): Promise<InviteRow> {
    return this.d.db.transaction(async (tx) => {
      // The circle's lock also serialises the count of usable invites against the cap.
      const { circle, me } = await loadCircle(tx, input.circleId, actor, { lock: true });
      if (!isManager(me?.role)) throw errors.denied('only the owner and hosts may create invites');
      const earlier = await inviteStore.findByIdempotencyKey(tx, circle.id, actor.userId, input.idempotencyKey);
      if (earlier) return earlier;
      if (circle.archive_time) throw errors.archived();
      const now = this.d.now();
      if ((await inviteStore.countUsable(tx, circle.id, now)) >= MAX_ACTIVE_INVITES) {
        throw new ConnectError(
          `the circle already has ${MAX_ACTIVE_INVITES} active invites; revoke some first`,
          Code.ResourceExhausted,
        );
      }
      return inviteStore.insert(tx, {
        code: newInviteCode(),
        circle_id: circle.id,
        creator_id: actor.userId,
        create_time: now,
        expire_time: new Date(now.getTime() + (input.ttlMs ?? DEFAULT_INVITE_TTL_MS)),
        max_uses: input.maxUses,
        idempotency_key: input.idempotencyKey,
      });
    });
  }

  /** Usable invites (not revoked, expired or used up), newest first. */
  async list(actor: Actor, req: { circleId: string; pageSize: number; pageToken: string }): Promise<{ invites: InviteRow[]; next: string }> {
    const { circle, me } = await loadCircle(this.d.db.db, req.circleId, actor);
    if (!isManager(me?.role)) throw errors.denied('only the owner and hosts may see invites');
    const size = pageSizeOf(req.pageSize, INVITES_PAGE);
    const token = this.d.pages.invites.decode(req.pageToken);
    const after: InvitePosition | undefined = token ? { time: token.t, code: token.code } : undefined;
    const rows = await inviteStore.listUsable(this.d.db.db, circle.id, this.d.now(), { ...(after ? { after } : {}), limit: size + 1 });
    const { items, next } = this.d.pages.invites.page(rows, size, (r) => ({ t: r.create_time, code: r.code }));
    return { invites: items, next };
  }

  /** Revoking a revoked invite returns it as it is. */
  async revoke(actor: Actor, circleId: string, code: string): Promise<InviteRow> {
    return this.d.db.transaction(async (tx) => {
      const { circle, me } = await loadCircle(tx, circleId, actor, { lock: true });
      if (!isManager(me?.role)) throw errors.denied('only the owner and hosts may revoke invites');
      const invite = await inviteStore.find(tx, code);
      if (!invite || invite.circle_id !== circle.id) throw inviteErrors.notFound();
      if (invite.revoke_time) return invite;
      if (circle.archive_time) throw errors.archived();
      return inviteStore.revoke(tx, code, this.d.now());
    });
  }

  /** The circle a code leads to, refused exactly as JoinCircle would refuse it. */
  async preview(actor: Actor, code: string): Promise<{ view: CircleView; expireTime: Date }> {
    const db = this.d.db.db;
    const invite = await findLiveInvite(db, code);
    const circle = await circleStore.find(db, invite.circle_id);
    if (!circle) throw inviteErrors.notFound();
    const me = await memberStore.find(db, circle.id, actor.userId);
    if (!me) {
      if (await banStore.find(db, circle.id, actor.userId)) throw inviteErrors.banned();
      assertUsable(invite, this.d.now());
      if (circle.archive_time) throw errors.archived();
    }
    return { view: { circle, me }, expireTime: invite.expire_time };
  }
}
