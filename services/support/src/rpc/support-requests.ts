import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { requireIdentity } from '@hearth/authz';
import { type SupportOfferSchema, SupportOfferState, type SupportRequestSchema, SupportRequestState, type SupportTopic, type SupportUrgency } from '@hearth/contracts/gen/hearth/support/v1/resources_pb.js';
import type { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import type { OfferState, OfferView, SupportOffers } from '../service/support-offers.js';
import { type RequestState, type RequestView, type SupportRequests, actorOf } from '../service/support-requests.js';

type Handlers = Partial<ServiceImpl<typeof SupportService>>;

const actor = (ctx: HandlerContext) => actorOf(requireIdentity(ctx));

const STATE: Record<RequestState, SupportRequestState> = {
  open: SupportRequestState.OPEN,
  matched: SupportRequestState.MATCHED,
  resolved: SupportRequestState.RESOLVED,
  cancelled: SupportRequestState.CANCELLED,
  removed: SupportRequestState.REMOVED,
};
const STATE_FROM_PROTO = new Map(Object.entries(STATE).map(([k, v]) => [v, k as RequestState]));

function requestMessage(v: RequestView): MessageInitShape<typeof SupportRequestSchema> {
  const r = v.row;
  return {
    id: r.id,
    requesterId: v.requesterShown ? r.requester_id : '',
    circleId: r.circle_id,
    topic: r.topic as SupportTopic,
    body: v.body,
    urgency: r.urgency as SupportUrgency,
    anonymous: r.anonymous,
    state: STATE[r.state],
    offerCount: r.offer_count,
    createTime: timestampFromDate(r.create_time),
    updateTime: timestampFromDate(r.update_time),
    ...(r.resolve_time ? { resolveTime: timestampFromDate(r.resolve_time) } : {}),
    version: BigInt(r.version),
  };
}

const OFFER_STATE: Record<OfferState, SupportOfferState> = {
  offered: SupportOfferState.OFFERED,
  accepted: SupportOfferState.ACCEPTED,
  withdrawn: SupportOfferState.WITHDRAWN,
  closed: SupportOfferState.CLOSED,
};

function offerMessage(v: OfferView): MessageInitShape<typeof SupportOfferSchema> {
  const r = v.row;
  return {
    id: r.id,
    requestId: r.request_id,
    helperId: r.helper_id,
    message: v.message,
    state: OFFER_STATE[r.state],
    createTime: timestampFromDate(r.create_time),
    updateTime: timestampFromDate(r.update_time),
  };
}

/** Offers: make, list, accept, withdraw. */
export function supportOfferHandlers(offers: SupportOffers): Handlers {
  return {
    offerSupport: async (req, ctx) => ({
      offer: offerMessage(await offers.offer(actor(ctx), { idempotencyKey: req.idempotencyKey, requestId: req.requestId, message: req.message })),
    }),
    listOffers: async (req, ctx) => {
      const { views, next } = await offers.list(actor(ctx), req.requestId, req.pageSize, req.pageToken);
      return { offers: views.map(offerMessage), nextPageToken: next };
    },
    acceptOffer: async (req, ctx) => {
      const { request, offer } = await offers.accept(actor(ctx), req.offerId, req.version);
      return { request: requestMessage(request), offer: offerMessage(offer) };
    },
    withdrawOffer: async (req, ctx) => ({ offer: offerMessage(await offers.withdraw(actor(ctx), req.offerId)) }),
  };
}

/** The support request lifecycle: create, read, list, edit, resolve, cancel. */
export function supportRequestHandlers(requests: SupportRequests): Handlers {
  return {
    createSupportRequest: async (req, ctx) => ({
      request: requestMessage(
        await requests.create(actor(ctx), {
          idempotencyKey: req.idempotencyKey,
          circleId: req.circleId,
          topic: req.topic,
          urgency: req.urgency,
          body: req.body,
          anonymous: req.anonymous,
        }),
      ),
      crisisResourcesSuggested: false,
    }),
    getSupportRequest: async (req, ctx) => ({ request: requestMessage(await requests.get(actor(ctx), req.id)) }),
    listSupportRequests: async (req, ctx) => {
      const { views, next } = await requests.list(actor(ctx), {
        circleId: req.circleId,
        onlyMine: req.onlyMine,
        // The request's rules admit only defined, non-zero states.
        states: req.states.flatMap((s) => STATE_FROM_PROTO.get(s) ?? []),
        topics: req.topics,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { requests: views.map(requestMessage), nextPageToken: next };
    },
    updateSupportRequest: async (req, ctx) => ({
      request: requestMessage(await requests.update(actor(ctx), { id: req.id, version: req.version, body: req.body, topic: req.topic, urgency: req.urgency })),
      crisisResourcesSuggested: false,
    }),
    resolveSupportRequest: async (req, ctx) => ({ request: requestMessage(await requests.close(actor(ctx), req.id, req.version, 'resolved')) }),
    cancelSupportRequest: async (req, ctx) => ({ request: requestMessage(await requests.close(actor(ctx), req.id, req.version, 'cancelled')) }),
  };
}
