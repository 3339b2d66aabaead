import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MessageKind, type MessageSchema, type UnreadCountSchema } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { MessageKind as Kind } from '../../store/schema.js';
import type { MessageView } from '../service/messages.js';
import type { UnreadRow } from '../store/messages.js';

const KIND_TO_PROTO: Readonly<Record<Kind, MessageKind>> = {
  text: MessageKind.TEXT,
  joined: MessageKind.MEMBER_JOINED,
  left: MessageKind.MEMBER_LEFT,
  welcome: MessageKind.WELCOME,
};

/** A stored message as resources.proto's Message (a tombstone has no body and no mentions). */
export function messageMessage(view: MessageView): MessageInitShape<typeof MessageSchema> {
  const m = view.row;
  return {
    id: m.id,
    circleId: m.circle_id,
    seq: BigInt(m.seq),
    senderId: m.sender_id ?? '',
    clientMessageId: m.client_message_id ?? '',
    body: view.body,
    mentionUserIds: [...view.mentions],
    threadRootId: m.thread_root_id ?? '',
    replyCount: m.reply_count,
    reactions: view.reactions.map((r) => ({ emoji: r.emoji, count: r.count, reactedByMe: r.mine })),
    pinned: m.pin_time !== null,
    ...(m.pin_time ? { pinTime: timestampFromDate(m.pin_time) } : {}),
    ...(m.last_reply_time ? { lastReplyTime: timestampFromDate(m.last_reply_time) } : {}),
    createTime: timestampFromDate(m.create_time),
    ...(m.edit_time ? { editTime: timestampFromDate(m.edit_time) } : {}),
    ...(m.delete_time ? { deleteTime: timestampFromDate(m.delete_time) } : {}),
    version: BigInt(m.version),
    kind: KIND_TO_PROTO[m.kind],
    subjectUserId: m.subject_user_id ?? '',
    hiddenByBlock: view.hidden ?? false,
  };
}

export function unreadMessage(r: UnreadRow): MessageInitShape<typeof UnreadCountSchema> {
  return { circleId: r.circle_id, lastSeq: BigInt(r.last_seq), lastReadSeq: BigInt(r.last_read_seq), unreadCount: r.unread };
}
