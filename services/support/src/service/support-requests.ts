import { Code, ConnectError } from '@connectrpc/connect';
import { type BlockSource, type Identity, type MembershipSource, type UserCirclesSource, assertMayWrite, isMember, isStaff } from '@hearth/authz';
import { type Database, type FieldCipher, type PageCodec, assertVersion, filteredPage, newId, pageSizeOf } from '@hearth/db';
import { offerStore } from '../store/support-offers.js';
import { requestStore } from '../store/support-requests.js';
import type { Db, RequestState, SupportRequestRow, SupportTables } from '../store/schema.js';

export type { RequestState } from '../store/schema.js';

/** Who is asking: staff (moderators, admins) see every request. */
export interface Actor {
  readonly userId: string;
  readonly staff: boolean;
}

export function actorOf(identity: Identity): Actor {
  return { userId: identity.userId, staff: isStaff(identity) };
}

export interface SupportRequestsDeps {
  readonly db: Database<SupportTables>;
  readonly cipher: FieldCipher;
  readonly memberships: MembershipSource;
  readonly blocks: BlockSource;
  readonly userCircles: UserCirclesSource;
  readonly pages: PageCodec<{ u: number; t: Date; id: string }>;
  /** Open (or matched) requests one person may have at once. */
  readonly maxOpen: number;
  readonly now: () => Date;
}

export interface NewSupportRequest {
  readonly idempotencyKey: string;
  readonly circleId: string;
  readonly topic: number;
  readonly urgency: number;
  readonly body: string;
  readonly anonymous: boolean;
}

/** A request as the caller may see it. */
export interface RequestView {
  readonly row: SupportRequestRow;
  readonly body: string;
  readonly requesterShown: boolean;
}

const DEFAULT_PAGE = 20;
const LIVE: readonly RequestState[] = ['open', 'matched'];

/**
 * Support requests in circles (support_service.proto): posted by members who are not muted, at
 * most `maxOpen` open at once per person, seen by the circle's members (not across a block)
 * and by staff, changed only by the requester, versions checked.
 */
export class SupportRequests {
  constructor(private readonly d: SupportRequestsDeps) {}

  async create(actor: Actor, input: NewSupportRequest): Promise<RequestView> {
    const asked = JSON.stringify([input.circleId, input.topic, input.urgency, input.body, input.anonymous]);
    const earlier = await requestStore.findByKey(this.d.db.db, actor.userId, input.idempotencyKey);
    if (earlier) return this.replay(actor, earlier, asked);
    const now = this.d.now();
    const access = await this.d.memberships.membership(input.circleId, actor.userId);
    assertMayWrite(access, now, 'only members may ask for support in this circle');
    if (access.archived) throw new ConnectError('the circle is archived', Code.FailedPrecondition);
    const row = await this.d.db.transaction(async (tx) => {
      // One requester's creates queue here, so the cap holds under concurrent calls.
      await tx.selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.fn('hashtext', [eb.val(`support-request:${actor.userId}`)])]).as('locked')).execute();
      if ((await requestStore.openCount(tx, actor.userId)) >= this.d.maxOpen) {
        throw new ConnectError(`at most ${this.d.maxOpen} open support requests at once; resolve or cancel one first`, Code.ResourceExhausted);
      }
      const id = newId();
      const sealed = this.d.cipher.seal(input.body, id);
      return requestStore.insert(tx, {
        id,
        circle_id: input.circleId,
        requester_id: actor.userId,
        idempotency_key: input.idempotencyKey,
        request_digest: this.d.cipher.digest(asked, sealed.keyId),
        digest_key_id: sealed.keyId,
        topic: input.topic,
        urgency: input.urgency,
        body: sealed.data,
        body_key_id: sealed.keyId,
        anonymous: input.anonymous,
        create_time: now,
        update_time: now,
      });
    });
    if (row) return this.present(actor, row);
    // A concurrent call with the same key stored it first.
    const winner = await requestStore.findByKey(this.d.db.db, actor.userId, input.idempotencyKey);
    if (!winner) throw new ConnectError('the request could not be stored just now; try again', Code.Aborted);
    return this.replay(actor, winner, asked);
  }

  async get(actor: Actor, id: string): Promise<RequestView> {
    const row = await this.readable(actor, id);
    return this.present(actor, row, (await this.acceptedHelping(actor, [row])).has(row.id));
  }

  /** The request if the caller may see it (NotFound otherwise); locked when read in `tx`. */
  async readable(actor: Actor, id: string, tx?: Db): Promise<SupportRequestRow> {
    const row = await requestStore.find(tx ?? this.d.db.db, id, { forUpdate: tx !== undefined });
    if (!row || !(await this.visible(actor, row))) throw requestNotFound();
    return row;
  }

  /** Which of these anonymous requests the caller helps on with an accepted offer (one query for them all). */
  private async acceptedHelping(actor: Actor, rows: readonly SupportRequestRow[]): Promise<ReadonlySet<string>> {
    const hidden = rows.filter((r) => r.anonymous && r.requester_id !== actor.userId && !actor.staff).map((r) => r.id);
    return hidden.length > 0 ? offerStore.acceptedOf(this.d.db.db, actor.userId, hidden) : new Set();
  }

  /**
   * Requests the caller can see, most urgent first then newest: in one circle (a member's, or
   * any for staff; NotFound otherwise) or in all of the caller's circles; only theirs with
   * `onlyMine`; OPEN and MATCHED unless `states` says otherwise.
   */
  async list(
    actor: Actor,
    q: { circleId: string; onlyMine: boolean; states: readonly RequestState[]; topics: readonly number[]; pageSize: number; pageToken: string },
  ): Promise<{ views: RequestView[]; next: string }> {
    let circleIds: readonly string[];
    if (q.circleId) {
      const access = await this.d.memberships.membership(q.circleId, actor.userId);
      if (!actor.staff && !isMember(access)) throw new ConnectError('circle not found', Code.NotFound);
      circleIds = [q.circleId];
    } else {
      circleIds = await this.d.userCircles.circleIds(actor.userId);
    }
    const states = q.states.length > 0 ? q.states : LIVE;
    const { items, next } = await filteredPage({
      codec: this.d.pages,
      filters: JSON.stringify([actor.userId, q.circleId, q.onlyMine, [...q.states].sort(), [...q.topics].sort()]),
      size: pageSizeOf(q.pageSize, DEFAULT_PAGE),
      pageToken: q.pageToken,
      positionOf: (r: SupportRequestRow) => ({ u: r.urgency, t: r.create_time, id: r.id }),
      read: (after, limit) =>
        requestStore.page(this.d.db.db, {
          circleIds,
          requesterId: q.onlyMine ? actor.userId : undefined,
          states,
          topics: q.topics,
          after: after && { urgency: after.u, time: after.t, id: after.id },
          limit,
        }),
      keep: (rows) => this.visibleAmong(actor, rows),
    });
    const helping = await this.acceptedHelping(actor, items);
    return { views: items.map((r) => this.present(actor, r, helping.has(r.id))), next };
  }

  /** The requester edits their OPEN or MATCHED request; only the fields set change. */
  async update(actor: Actor, change: { id: string; version: bigint; body?: string | undefined; topic?: number | undefined; urgency?: number | undefined }): Promise<RequestView> {
    return this.d.db.transaction(async (tx) => {
      const row = await this.own(tx, actor, change.id);
      if (!LIVE.includes(row.state)) throw new ConnectError('only an open or matched request can be edited', Code.FailedPrecondition);
      assertVersion('support request', row.version, change.version);
      const sealed = change.body === undefined ? undefined : this.d.cipher.seal(change.body, row.id);
      const updated = await requestStore.update(tx, row.id, {
        ...(sealed ? { body: sealed.data, body_key_id: sealed.keyId } : {}),
        ...(change.topic === undefined ? {} : { topic: change.topic }),
        ...(change.urgency === undefined ? {} : { urgency: change.urgency }),
        update_time: this.d.now(),
      });
      return this.present(actor, updated, true);
    });
  }

  /** The requester resolves or cancels their request (from OPEN or MATCHED); repeating it returns it unchanged. */
  async close(actor: Actor, id: string, version: bigint, to: 'resolved' | 'cancelled'): Promise<RequestView> {
    return this.d.db.transaction(async (tx) => {
      const row = await this.own(tx, actor, id);
      if (row.state === to) return this.present(actor, row);
      if (!LIVE.includes(row.state)) throw new ConnectError(`a ${row.state} request cannot be ${to}`, Code.FailedPrecondition);
      assertVersion('support request', row.version, version);
      const now = this.d.now();
      await offerStore.closeOffered(tx, row.id, now);
      return this.present(actor, await requestStore.update(tx, row.id, { state: to, resolve_time: now, update_time: now }), true);
    });
  }

  /** The caller's own request, locked: NotFound if they cannot see it, PermissionDenied if it is someone else's. */
  private async own(tx: Db, actor: Actor, id: string): Promise<SupportRequestRow> {
    const row = await this.readable(actor, id, tx);
    if (row.requester_id !== actor.userId) throw new ConnectError('only the requester may change a support request', Code.PermissionDenied);
    return row;
  }

  /** resources.proto: members of its circle and staff; REMOVED only the requester and staff; never across a block. */
  private async visible(actor: Actor, row: SupportRequestRow): Promise<boolean> {
    return (await this.visibleAmong(actor, [row]))(row);
  }

  /** The rule above for many rows at once: each circle asked once, every requester's block in one question. */
  private async visibleAmong(actor: Actor, rows: readonly SupportRequestRow[]): Promise<(row: SupportRequestRow) => boolean> {
    if (actor.staff) return () => true;
    const others = rows.filter((r) => r.requester_id !== actor.userId && r.state !== 'removed');
    const memberOf = new Set<string>();
    for (const circleId of new Set(others.map((r) => r.circle_id))) {
      const access = await this.d.memberships.membership(circleId, actor.userId);
      if (isMember(access)) memberOf.add(circleId);
    }
    const requesters = [...new Set(others.filter((r) => memberOf.has(r.circle_id)).map((r) => r.requester_id))];
    const blocked = requesters.length > 0 ? await this.d.blocks.blockedAmong(actor.userId, requesters) : new Set<string>();
    return (r) => r.requester_id === actor.userId || (r.state !== 'removed' && memberOf.has(r.circle_id) && !blocked.has(r.requester_id));
  }

  private replay(actor: Actor, earlier: SupportRequestRow, asked: string): RequestView {
    if (!this.d.cipher.digestMatches(asked, { digest: earlier.request_digest, keyId: earlier.digest_key_id })) {
      throw new ConnectError('idempotency_key was already used for a different request', Code.AlreadyExists);
    }
    return this.present(actor, earlier);
  }

  /**
   * `revealed`: the caller is a helper whose offer the requester accepted (they see who asked,
   * even on an anonymous request); callers who know it say so, others are looked up.
   */
  present(actor: Actor, row: SupportRequestRow, revealed = false): RequestView {
    const requesterShown = !row.anonymous || row.requester_id === actor.userId || actor.staff || revealed;
    const body = row.state === 'removed' || !row.body || !row.body_key_id ? '' : this.d.cipher.open({ keyId: row.body_key_id, data: row.body }, row.id);
    return { row, body, requesterShown };
  }
}

function requestNotFound(): ConnectError {
  return new ConnectError('support request not found', Code.NotFound);
}

