import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  type BanSchema,
  type CircleSchema,
  CircleVisibility,
  type InviteSchema,
  type MemberSchema,
  MemberRole,
  type MembershipSchema,
} from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { Standing } from '../service/memberships.js';
import { type CircleView, type MemberView, muteOf } from '../service/model.js';
import type { BanRow, InviteRow, MemberRow, Role, Visibility } from '../service/model.js';

export const VISIBILITY_TO_PROTO: Readonly<Record<Visibility, CircleVisibility>> = {
  public: CircleVisibility.PUBLIC,
  private: CircleVisibility.PRIVATE,
};

/** protovalidate has refused UNSPECIFIED and unknown values before a handler runs. */
export function visibilityFromProto(v: CircleVisibility): Visibility {
  return v === CircleVisibility.PRIVATE ? 'private' : 'public';
}

export const ROLE_TO_PROTO: Readonly<Record<Role, MemberRole>> = {
  owner: MemberRole.OWNER,
  host: MemberRole.HOST,
  member: MemberRole.MEMBER,
};

export function roleFromProto(r: MemberRole): Role {
  if (r === MemberRole.OWNER) return 'owner';
  if (r === MemberRole.HOST) return 'host';
  return 'member';
}

export function memberMessage(view: MemberView, now: Date): MessageInitShape<typeof MemberSchema> {
  const m = view.member;
  const mute = view.showMute ? muteOf(m, now) : undefined;
  return {
    circleId: m.circle_id,
    userId: m.user_id,
    role: ROLE_TO_PROTO[m.role],
    joinTime: timestampFromDate(m.join_time),
    ...(mute ? { muteExpireTime: timestampFromDate(mute) } : {}),
    version: BigInt(m.version),
  };
}

/** A member's own row: they always see their own mute. */
export function ownMember(m: MemberRow, now: Date): MessageInitShape<typeof MemberSchema> {
  return memberMessage({ member: m, showMute: true }, now);
}

export function circleMessage(view: CircleView, now: Date): MessageInitShape<typeof CircleSchema> {
  const c = view.circle;
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    guidelines: c.guidelines,
    visibility: VISIBILITY_TO_PROTO[c.visibility],
    memberCap: c.member_cap,
    memberCount: c.member_count,
    ownerId: c.owner_id,
    lastSeq: BigInt(c.last_seq),
    createTime: timestampFromDate(c.create_time),
    updateTime: timestampFromDate(c.update_time),
    ...(c.archive_time ? { archiveTime: timestampFromDate(c.archive_time) } : {}),
    version: BigInt(c.version),
    ...(view.me ? { myMembership: ownMember(view.me, now) } : {}),
  };
}

export function inviteMessage(i: InviteRow): MessageInitShape<typeof InviteSchema> {
  return {
    code: i.code,
    circleId: i.circle_id,
    creatorId: i.creator_id,
    createTime: timestampFromDate(i.create_time),
    expireTime: timestampFromDate(i.expire_time),
    maxUses: i.max_uses,
    useCount: i.use_count,
    ...(i.revoke_time ? { revokeTime: timestampFromDate(i.revoke_time) } : {}),
  };
}

export function banMessage(b: BanRow): MessageInitShape<typeof BanSchema> {
  return {
    circleId: b.circle_id,
    userId: b.user_id,
    bannedBy: b.banned_by,
    reason: b.reason,
    createTime: timestampFromDate(b.create_time),
  };
}

export function membershipMessage(s: Standing): MessageInitShape<typeof MembershipSchema> {
  return {
    circleId: s.circleId,
    userId: s.userId,
    role: s.role ? ROLE_TO_PROTO[s.role] : MemberRole.UNSPECIFIED,
    ...(s.mutedUntil ? { muteExpireTime: timestampFromDate(s.mutedUntil) } : {}),
    banned: s.banned,
    visibility: VISIBILITY_TO_PROTO[s.visibility],
    archived: s.archived,
  };
}
