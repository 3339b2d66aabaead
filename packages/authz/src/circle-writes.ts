import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { MuteInfoSchema } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import type { CircleAccess, CircleRole } from './rules.js';

/**
 * What a member muted in a circle gets when they try to write there (chat, posts, responses,
 * support requests): PermissionDenied saying until when, in the message and as a MuteInfo
 * detail an app can read.
 */
export function mutedError(until: Date): ConnectError {
  return new ConnectError(`you are muted in this circle until ${until.toISOString()}`, Code.PermissionDenied, undefined, [
    { desc: MuteInfoSchema, value: create(MuteInfoSchema, { muteExpireTime: timestampFromDate(until) }) },
  ]);
}

/** Whether a standing is a member's (a role, not banned). */
export function isMember(access: CircleAccess | undefined): access is CircleAccess & { readonly role: CircleRole } {
  return access !== undefined && access.role !== undefined && !access.banned;
}

/**
 * Refuses a write in a circle by someone who may not write there at `now`: PermissionDenied
 * with `notMember` for anyone but a member, `mutedError` for a muted one.
 */
export function assertMayWrite(access: CircleAccess | undefined, now: Date, notMember: string): asserts access is CircleAccess & { readonly role: CircleRole } {
  if (!isMember(access)) throw new ConnectError(notMember, Code.PermissionDenied);
  if (access.mutedUntil && access.mutedUntil > now) throw mutedError(access.mutedUntil);
}
