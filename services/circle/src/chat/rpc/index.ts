import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { requireIdentity } from '@hearth/authz';
import { actorOf } from '../../service/model.js';
import type { MessageMarks } from '../service/marks.js';
import type { ChatMessages, ReadPosition } from '../service/messages.js';
import { messageMessage, unreadMessage } from './mappers.js';

export interface ChatRpcDeps {
  readonly messages: ChatMessages;
  readonly marks: MessageMarks;
}

/**
 * ChatService's handlers (ADR 0007). RPCs not listed here are not built yet: Connect answers
 * them with Code.Unimplemented.
 */
export function chatHandlers(deps: ChatRpcDeps): Partial<ServiceImpl<typeof ChatService>> {
  const actor = (ctx: HandlerContext) => actorOf(requireIdentity(ctx));
  return {
    async sendMessage(req, ctx) {
      const view = await deps.messages.send(actor(ctx), {
        circleId: req.circleId,
        clientMessageId: req.clientMessageId,
        body: req.body,
        threadRootId: req.threadRootId,
        mentionUserIds: req.mentionUserIds,
      });
      return { message: messageMessage(view) };
    },

    async editMessage(req, ctx) {
      const view = await deps.messages.edit(actor(ctx), {
        circleId: req.circleId,
        messageId: req.messageId,
        version: req.version,
        body: req.body,
        mentionUserIds: req.mentionUserIds,
      });
      return { message: messageMessage(view) };
    },

    async deleteMessage(req, ctx) {
      const view = await deps.messages.delete(actor(ctx), { circleId: req.circleId, messageId: req.messageId, reason: req.reason });
      return { message: messageMessage(view) };
    },

    async addReaction(req, ctx) {
      return { message: messageMessage(await deps.marks.react(actor(ctx), req)) };
    },

    async removeReaction(req, ctx) {
      return { message: messageMessage(await deps.marks.unreact(actor(ctx), req)) };
    },

    async pinMessage(req, ctx) {
      return { message: messageMessage(await deps.marks.pin(actor(ctx), req)) };
    },

    async unpinMessage(req, ctx) {
      return { message: messageMessage(await deps.marks.unpin(actor(ctx), req)) };
    },

    async listPins(req, ctx) {
      const page = await deps.marks.pins(actor(ctx), req.circleId, req.pageSize, req.pageToken);
      return { messages: page.messages.map(messageMessage), nextPageToken: page.next };
    },

    async listMessagesForDelivery(req) {
      const page = await deps.messages.forDelivery(req.circleId, Number(req.afterSeq), req.pageSize);
      return { messages: page.messages.map(messageMessage), lastSeq: BigInt(page.lastSeq) };
    },

    async listMentions(req, ctx) {
      const page = await deps.messages.mentions(actor(ctx), req.pageSize, req.pageToken);
      return { messages: page.messages.map(messageMessage), nextPageToken: page.next };
    },

    async getThread(req, ctx) {
      const page = await deps.messages.thread(actor(ctx), req.circleId, req.rootMessageId, req.pageSize, req.pageToken);
      return { root: messageMessage(page.root), replies: page.replies.map(messageMessage), nextPageToken: page.next };
    },

    async markRead(req, ctx) {
      return { unread: unreadMessage(await deps.messages.markRead(actor(ctx), req.circleId, Number(req.seq))) };
    },

    async getUnreadCounts(req, ctx) {
      const page = await deps.messages.unreadCounts(actor(ctx), req.circleIds, req.pageSize, req.pageToken);
      return { counts: page.counts.map(unreadMessage), nextPageToken: page.next };
    },

    async listMessages(req, ctx) {
      const position: ReadPosition =
        req.position.case === 'afterSeq'
          ? { after: Number(req.position.value) }
          : req.position.case === 'beforeSeq'
            ? { before: Number(req.position.value) }
            : { newest: true };
      const page = await deps.messages.list(actor(ctx), req.circleId, position, req.pageSize);
      return { messages: page.messages.map(messageMessage), hasMore: page.hasMore, lastSeq: BigInt(page.lastSeq) };
    },
  };
}
