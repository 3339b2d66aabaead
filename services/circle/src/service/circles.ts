import { Code, ConnectError } from '@connectrpc/connect';
import { assertVersion, filteredPage, isUniqueViolation, newId, pageSizeOf } from '@hearth/db';
import { auditStore } from '../store/audit.js';
import { type CircleChanges, type CircleWithMember, type TimePosition, circleStore } from '../store/circles.js';
import { memberStore } from '../store/members.js';
import type { Visibility } from '../store/schema.js';
import { type DiscoverDeps, loadCircle } from './deps.js';
import { PendingEvents, memberSnapshot } from './events.js';
import { type Actor, type CircleView, errors } from './model.js';
import { searchWords } from './search.js';

/** circle_service.proto: CreateCircleRequest.member_cap 0 means this. */
export const DEFAULT_MEMBER_CAP = 1000;
const MY_CIRCLES_PAGE = 50;
const DISCOVER_PAGE = 20;
/** Discover skips circles of blocked owners; past this many batches a page may come back short. */
const DISCOVER_MAX_BATCHES = 5;

export interface NewCircle {
  readonly name: string;
  readonly description: string;
  readonly guidelines: string;
  readonly visibility: Visibility;
  readonly memberCap: number;
  readonly idempotencyKey: string;
}

export interface CircleUpdate {
  readonly circleId: string;
  readonly version: bigint;
  readonly name?: string;
  readonly description?: string;
  readonly guidelines?: string;
  readonly visibility?: Visibility;
  readonly memberCap?: number;
}

const SAME_KEY = 'circles_creator_idempotency_key';

/** Circles themselves: create, read, change, archive, list. */
export class Circles {
  constructor(private readonly d: DiscoverDeps) {}

  /** Idempotent by the creator's key: a retry returns the circle the first call created. */
  async create(actor: Actor, input: NewCircle): Promise<CircleView> {
    const earlier = await this.byKey(actor, input.idempotencyKey);
    if (earlier) return earlier;
    try {
      return await this.d.db.transaction(async (tx) => {
        const now = this.d.now();
        const circle = await circleStore.insert(tx, {
          id: newId(),
          name: input.name,
          description: input.description,
          guidelines: input.guidelines,
          visibility: input.visibility,
          member_cap: input.memberCap || DEFAULT_MEMBER_CAP,
          member_count: 1,
          owner_id: actor.userId,
          create_time: now,
          update_time: now,
          archive_time: null,
          creator_id: actor.userId,
          idempotency_key: input.idempotencyKey,
        });
        const me = await memberStore.insert(tx, { circleId: circle.id, userId: actor.userId, role: 'owner', now });
        new PendingEvents(tx, this.d.bus).add({ circleId: circle.id, userId: actor.userId, change: 'joined', role: 'owner', member: memberSnapshot(me) });
        return { circle, me };
      });
    } catch (err) {
      // A concurrent retry with the same key won the insert.
      if (!isUniqueViolation(err, SAME_KEY)) throw err;
      const winner = await this.byKey(actor, input.idempotencyKey);
      if (!winner) throw err;
      return winner;
    }
  }

  async get(actor: Actor, circleId: string): Promise<CircleView> {
    return loadCircle(this.d.db.db, circleId, actor);
  }

  /** Only the fields that are set change. Hosts: name, description, guidelines; the owner: all. */
  async update(actor: Actor, input: CircleUpdate): Promise<CircleView> {
    return this.d.db.transaction(async (tx) => {
      const { circle, me } = await loadCircle(tx, input.circleId, actor, { lock: true });
      if (me?.role !== 'owner' && me?.role !== 'host') throw errors.denied('only the owner and hosts may change a circle');
      if ((input.visibility !== undefined || input.memberCap !== undefined) && me.role !== 'owner') {
        throw errors.denied('only the owner may change visibility and member cap');
      }
      if (circle.archive_time) throw errors.archived();
      assertVersion('circle', circle.version, input.version);
      if (input.memberCap !== undefined && input.memberCap < circle.member_count) {
        throw new ConnectError(
          `member_cap ${input.memberCap} is below the circle's ${circle.member_count} members`,
          Code.FailedPrecondition,
        );
      }
      const changes: CircleChanges = {};
      if (input.name !== undefined) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description;
      if (input.guidelines !== undefined) changes.guidelines = input.guidelines;
      if (input.visibility !== undefined) changes.visibility = input.visibility;
      if (input.memberCap !== undefined) changes.member_cap = input.memberCap;
      const updated = await circleStore.update(tx, circle.id, changes, this.d.now());
      if (updated.visibility !== circle.visibility) {
        new PendingEvents(tx, this.d.bus).add({ circleId: circle.id, change: 'visibility' });
      }
      return { circle: updated, me };
    });
  }

  /** Owner or staff. Archiving an archived circle returns it unchanged, whatever the version. */
  async archive(actor: Actor, circleId: string, version: bigint): Promise<CircleView> {
    return this.d.db.transaction(async (tx) => {
      const { circle, me } = await loadCircle(tx, circleId, actor, { lock: true });
      if (me?.role !== 'owner' && !actor.staff) throw errors.denied('only the owner may archive a circle');
      if (circle.archive_time) return { circle, me };
      assertVersion('circle', circle.version, version);
      const now = this.d.now();
      const updated = await circleStore.update(tx, circle.id, { archive_time: now }, now);
      if (me?.role !== 'owner') await auditStore.insert(tx, { actor: actor.userId, action: 'circle.archive', circleId, now });
      new PendingEvents(tx, this.d.bus).add({ circleId, userId: actor.userId, change: 'archived' });
      return { circle: updated, me };
    });
  }

  /** The actor's circles, most recently joined first. */
  async listMine(
    actor: Actor,
    req: { pageSize: number; pageToken: string; includeArchived: boolean },
  ): Promise<{ circles: CircleView[]; next: string }> {
    const size = pageSizeOf(req.pageSize, MY_CIRCLES_PAGE);
    const filters = req.includeArchived ? 'archived' : '';
    const after = timePosition(this.d.pages.myCircles.decode(req.pageToken, filters));
    const rows = await circleStore.listForMember(this.d.db.db, actor.userId, {
      includeArchived: req.includeArchived,
      after,
      limit: size + 1,
    });
    const { items, next } = this.d.pages.myCircles.page(rows, size, (r) => ({ t: r.member?.join_time ?? r.circle.create_time, id: r.circle.id }), filters);
    return { circles: items.map(asView), next };
  }

  /**
   * Public, active circles the actor is not banned from, newest first, leaving out circles
   * whose owner has a block with the actor (either way). Those are filtered after the query,
   * so a page may hold fewer than `pageSize` circles and still have a next page.
   */
  async discover(actor: Actor, req: { query: string; pageSize: number; pageToken: string }): Promise<{ circles: CircleView[]; next: string }> {
    const size = pageSizeOf(req.pageSize, DISCOVER_PAGE);
    const words = searchWords(req.query);
    const filters = words.join(' ');
    const { items, next } = await filteredPage({
      codec: this.d.pages.discover,
      filters,
      size,
      pageToken: req.pageToken,
      maxRounds: DISCOVER_MAX_BATCHES,
      positionOf: (r: CircleWithMember) => ({ t: r.circle.create_time, id: r.circle.id }),
      read: (after, limit) => circleStore.discover(this.d.db.db, actor.userId, { words, after: timePosition(after), limit }),
      keep: async (rows) => {
        const owners = [...new Set(rows.map((r) => r.circle.owner_id))].filter((id) => id !== actor.userId);
        const blocked = owners.length > 0 ? await this.d.blocks.blockedAmong(actor.userId, owners) : new Set<string>();
        return (r) => !blocked.has(r.circle.owner_id);
      },
    });
    return { circles: items.map(asView), next };
  }

  private async byKey(actor: Actor, key: string): Promise<CircleView | undefined> {
    const circle = await circleStore.findByIdempotencyKey(this.d.db.db, actor.userId, key);
    if (!circle) return undefined;
    return { circle, me: await memberStore.find(this.d.db.db, circle.id, actor.userId) };
  }
}

function asView(r: CircleWithMember): CircleView {
  return { circle: r.circle, me: r.member };
}

function timePosition(p: { t: Date; id: string } | undefined): TimePosition | undefined {
  return p ? { time: p.t, id: p.id } : undefined;
}
