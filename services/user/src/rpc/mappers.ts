import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  type BlockedUserSchema,
  DirectMessagePolicy,
  type ProfileSchema,
  type SettingsSchema,
} from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import type { BlockedUser } from '../service/blocks.js';
import { type ProfileView, ROLE_TO_PROTO, STATE_TO_PROTO } from '../service/model.js';
import type { DirectMessages, SettingsRow } from '../service/model.js';

export function profileMessage(p: ProfileView): MessageInitShape<typeof ProfileSchema> {
  return {
    id: p.id,
    handle: p.handle,
    displayName: p.display_name,
    bio: p.bio,
    pronouns: p.pronouns,
    avatarUrl: p.avatar_url,
    state: STATE_TO_PROTO[p.state],
    roles: p.roles.map((r) => ROLE_TO_PROTO[r]),
    createTime: timestampFromDate(p.create_time),
    updateTime: timestampFromDate(p.update_time),
    ...(p.delete_time ? { deleteTime: timestampFromDate(p.delete_time) } : {}),
    version: BigInt(p.version),
  };
}

export const DM_TO_PROTO: Readonly<Record<DirectMessages, DirectMessagePolicy>> = {
  everyone: DirectMessagePolicy.EVERYONE,
  circle_members: DirectMessagePolicy.CIRCLE_MEMBERS,
  nobody: DirectMessagePolicy.NOBODY,
};

export const DM_FROM_PROTO: Readonly<Partial<Record<DirectMessagePolicy, DirectMessages>>> = {
  [DirectMessagePolicy.EVERYONE]: 'everyone',
  [DirectMessagePolicy.CIRCLE_MEMBERS]: 'circle_members',
  [DirectMessagePolicy.NOBODY]: 'nobody',
};

export function settingsMessage(s: SettingsRow): MessageInitShape<typeof SettingsSchema> {
  return {
    notifications: {
      messages: s.notify_messages,
      mentions: s.notify_mentions,
      supportRequests: s.notify_support_requests,
      sosAlerts: s.notify_sos_alerts,
    },
    privacy: {
      directMessages: DM_TO_PROTO[s.direct_messages],
      showPresence: s.show_presence,
      discoverableByHandle: s.discoverable_by_handle,
    },
    ...(s.update_time ? { updateTime: timestampFromDate(s.update_time) } : {}),
    version: BigInt(s.version),
  };
}

export function blockedMessage(b: BlockedUser): MessageInitShape<typeof BlockedUserSchema> {
  return { userId: b.userId, handle: b.handle, displayName: b.displayName, createTime: timestampFromDate(b.createTime) };
}

/**
 * Versions are int64 on the wire; a value past what this service ever stores cannot be current.
 * protovalidate has already refused values below 1.
 */
export function versionOf(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
}
