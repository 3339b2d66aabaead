import { Code, ConnectError } from '@connectrpc/connect';
import { type Database, type FieldCipher, type PageCodec, assertVersion, isUniqueViolation, newId, pageSizeOf } from '@hearth/db';
import { offerStore } from '../store/support-offers.js';
import { requestStore } from '../store/support-requests.js';
import type { Db, SupportOfferRow, SupportRequestRow, SupportTables } from '../store/schema.js';
import type { Actor, RequestView, SupportRequests } from './support-requests.js';

export type { OfferState } from '../store/schema.js';

export interface SupportOffersDeps {
  readonly db: Database<SupportTables>;
  readonly cipher: FieldCipher;
  readonly requests: SupportRequests;
  readonly pages: PageCodec<{ t: Date; id: string }>;
  readonly now: () => Date;
}

/** An offer as its reader sees it (only the requester, its helper and staff ever do). */
export interface OfferView {
  readonly row: SupportOfferRow;
  readonly message: string;
}

const DEFAULT_PAGE = 50;
const LIVE_OFFER_INDEX = 'support_offers_live_idx';

/**
 * Offers of support (support_service.proto): made by the circle's members on OPEN or MATCHED
 * requests (one live offer each), accepted by the requester, which matches the request and
 * shows each the other's id, withdrawn by their helper, closed when the request closes.
 */
export class SupportOffers {
  constructor(private readonly d: SupportOffersDeps) {}

  async offer(actor: Actor, input: { idempotencyKey: string; requestId: string; message: string }): Promise<OfferView> {
    const asked = JSON.stringify([input.requestId, input.message]);
    const earlier = await offerStore.findByKey(this.d.db.db, actor.userId, input.idempotencyKey);
    if (earlier) return this.replay(earlier, asked);
    try {
      return await this.d.db.transaction(async (tx) => {
        const request = await this.d.requests.readable(actor, input.requestId, tx);
        if (request.requester_id === actor.userId) throw new ConnectError('you cannot offer support on your own request', Code.PermissionDenied);
        if (request.state !== 'open' && request.state !== 'matched') throw new ConnectError(`a ${request.state} request takes no offers`, Code.FailedPrecondition);
        if (await offerStore.live(tx, request.id, actor.userId)) throw alreadyOffered();
        const now = this.d.now();
        const id = newId();
        const sealed = this.d.cipher.seal(input.message, id);
        const row = await offerStore.insert(tx, {
          id,
          request_id: request.id,
          helper_id: actor.userId,
          idempotency_key: input.idempotencyKey,
          request_digest: this.d.cipher.digest(asked, sealed.keyId),
          digest_key_id: sealed.keyId,
          message: sealed.data,
          message_key_id: sealed.keyId,
          create_time: now,
          update_time: now,
        });
        if (!row) throw new ConnectError('the offer could not be stored just now; try again', Code.Aborted);
        await requestStore.touch(tx, request.id, { offerDelta: 1, at: now });
        return this.present(row);
      });
    } catch (err) {
      // A concurrent offer of the same helper on the same request stored first.
      if (isUniqueViolation(err, LIVE_OFFER_INDEX)) throw alreadyOffered();
      throw err;
    }
  }

  /** A request's offers, oldest first: every offer for the requester and staff, their own for anyone else. */
  async list(actor: Actor, requestId: string, pageSize: number, pageToken: string): Promise<{ views: OfferView[]; next: string }> {
    const request = await this.d.requests.readable(actor, requestId);
    const all = actor.staff || request.requester_id === actor.userId;
    const size = pageSizeOf(pageSize, DEFAULT_PAGE);
    const decoded = this.d.pages.decode(pageToken, `${actor.userId}:${requestId}`);
    const rows = await offerStore.page(this.d.db.db, requestId, {
      helperId: all ? undefined : actor.userId,
      after: decoded && { time: decoded.t, id: decoded.id },
      limit: size + 1,
    });
    const { items, next } = this.d.pages.page(rows, size, (r) => ({ t: r.create_time, id: r.id }), `${actor.userId}:${requestId}`);
    return { views: items.map((r) => this.present(r)), next };
  }

  /**
   * The requester accepts an OFFERED offer: it becomes ACCEPTED and the request MATCHED (its
   * version checked and moved). Accepting an ACCEPTED offer returns the state as it is.
   */
  async accept(actor: Actor, offerId: string, version: bigint): Promise<{ request: RequestView; offer: OfferView }> {
    return this.d.db.transaction(async (tx) => {
      const { offer, request } = await this.offerAndRequest(tx, actor, offerId);
      if (request.requester_id !== actor.userId) throw new ConnectError('only the requester may accept an offer', Code.PermissionDenied);
      if (offer.state === 'accepted') return { request: this.d.requests.present(actor, request), offer: this.present(offer) };
      if (offer.state !== 'offered') throw new ConnectError(`a ${offer.state} offer cannot be accepted`, Code.FailedPrecondition);
      if (request.state !== 'open' && request.state !== 'matched') throw new ConnectError(`offers on a ${request.state} request cannot be accepted`, Code.FailedPrecondition);
      assertVersion('support request', request.version, version);
      const now = this.d.now();
      const accepted = await offerStore.setState(tx, offer.id, 'accepted', now);
      const matched = await requestStore.update(tx, request.id, { state: 'matched', update_time: now });
      return { request: this.d.requests.present(actor, matched), offer: this.present(accepted) };
    });
  }

  /**
   * The helper withdraws their OFFERED or ACCEPTED offer; a request left with no accepted offer
   * is OPEN again. Withdrawing a WITHDRAWN offer returns it as it is; a CLOSED one cannot be.
   */
  async withdraw(actor: Actor, offerId: string): Promise<OfferView> {
    return this.d.db.transaction(async (tx) => {
      const { offer, request } = await this.offerAndRequest(tx, actor, offerId);
      if (offer.helper_id !== actor.userId) throw new ConnectError('only its helper may withdraw an offer', Code.PermissionDenied);
      if (offer.state === 'withdrawn') return this.present(offer);
      if (offer.state === 'closed') throw new ConnectError('a closed offer cannot be withdrawn', Code.FailedPrecondition);
      const now = this.d.now();
      const withdrawn = await offerStore.setState(tx, offer.id, 'withdrawn', now);
      const unmatched = request.state === 'matched' && (await offerStore.acceptedCount(tx, request.id)) === 0;
      await requestStore.touch(tx, request.id, { offerDelta: -1, at: now, ...(unmatched ? { state: 'open' as const } : {}) });
      return this.present(withdrawn);
    });
  }

  /** The offer (locked) and its request, if the caller may see the offer: its requester, its helper, staff. */
  private async offerAndRequest(tx: Db, actor: Actor, offerId: string): Promise<{ offer: SupportOfferRow; request: SupportRequestRow }> {
    // Locks the request before the offer, the order every write here takes (closing a request
    // locks it and then its offers), so two writes never wait on each other.
    const found = await offerStore.find(tx, offerId);
    if (!found) throw offerNotFound();
    const request = await this.d.requests.readable(actor, found.request_id, tx).catch(() => {
      throw offerNotFound();
    });
    const offer = await offerStore.find(tx, offerId, { forUpdate: true });
    if (!offer) throw offerNotFound();
    if (!actor.staff && offer.helper_id !== actor.userId && request.requester_id !== actor.userId) throw offerNotFound();
    return { offer, request };
  }

  private replay(earlier: SupportOfferRow, asked: string): OfferView {
    if (!this.d.cipher.digestMatches(asked, { digest: earlier.request_digest, keyId: earlier.digest_key_id })) {
      throw new ConnectError('idempotency_key was already used for a different offer', Code.AlreadyExists);
    }
    return this.present(earlier);
  }

  private present(row: SupportOfferRow): OfferView {
    return { row, message: this.d.cipher.open({ keyId: row.message_key_id, data: row.message }, row.id) };
  }
}

function alreadyOffered(): ConnectError {
  return new ConnectError('you already have an offer on this request', Code.AlreadyExists);
}

function offerNotFound(): ConnectError {
  return new ConnectError('offer not found', Code.NotFound);
}
