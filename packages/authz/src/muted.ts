import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { MuteInfoSchema } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';

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
