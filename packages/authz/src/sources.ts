import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { DescService } from '@bufbuild/protobuf';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import type { EventBus } from '@hearth/db';
import { LRUCache } from 'lru-cache';
import type { AuthorizationSources, BlockSource, CircleAccess, CircleRole, MembershipSource } from './rules.js';
import { blocksTopic, membershipTopic } from './topics.js';

/**
 * How long an answer about circles or blocks may be reused. Short, because a change must take
 * effect quickly even when the invalidation event is lost (Redis pub/sub may drop it).
 */
export const AUTHZ_CACHE_TTL_MS = 5_000;

const ROLE: Partial<Record<MemberRole, CircleRole>> = {
  [MemberRole.OWNER]: 'owner',
  [MemberRole.HOST]: 'host',
  [MemberRole.MEMBER]: 'member',
};

/** Asks the circle service (GetMembership, with this process's service identity). */
export function remoteMemberships(client: () => Client<typeof CircleService>): MembershipSource {
  return {
    async membership(circleId, userId) {
      try {
        const { membership: m } = await client().getMembership({ circleId, userId });
        if (!m) return undefined;
        return {
          role: ROLE[m.role],
          banned: m.banned,
          visibility: m.visibility === CircleVisibility.PUBLIC ? 'public' : 'private',
          archived: m.archived,
          ...(m.muteExpireTime ? { mutedUntil: timestampDate(m.muteExpireTime) } : {}),
        };
      } catch (err) {
        if (ConnectError.from(err).code === Code.NotFound) return undefined;
        throw err;
      }
    },
  };
}

/** Asks the user service (CheckBlocks, with this process's service identity). */
export function remoteBlocks(client: () => Client<typeof UserService>): BlockSource {
  return {
    async blockedAmong(userId, others) {
      if (others.length === 0) return new Set();
      const res = await client().checkBlocks({ userId, otherUserIds: [...new Set(others)] });
      return new Set(res.blockedUserIds);
    },
  };
}

/** A MembershipSource that remembers answers briefly and forgets them when told to. */
export class CachedMemberships implements MembershipSource {
  // `null` remembers "no such circle" too, so probing unknown ids does not reach the service.
  private readonly cache: LRUCache<string, CircleAccess | { missing: true }>;
  private readonly asking = new Map<string, Promise<CircleAccess | undefined>>();
  // Counts invalidations, so an answer asked for before one is not cached after it.
  private generation = 0;

  constructor(
    private readonly source: MembershipSource,
    opts: { ttlMs?: number; max?: number } = {},
  ) {
    this.cache = new LRUCache({ max: opts.max ?? 50_000, ttl: opts.ttlMs ?? AUTHZ_CACHE_TTL_MS });
  }

  async membership(circleId: string, userId: string): Promise<CircleAccess | undefined> {
    const key = `${circleId}:${userId}`;
    const hit = this.cache.get(key);
    if (hit) return 'missing' in hit ? undefined : hit;
    // Calls that miss together share one question (a busy circle's entry expiring would
    // otherwise send every call in flight to the circle service at once).
    let asking = this.asking.get(key);
    if (!asking) {
      const generation = this.generation;
      asking = this.source.membership(circleId, userId).then(
        (access) => {
          // An invalidation while asking: the answer may predate the change; do not keep it.
          if (this.generation === generation) this.cache.set(key, access ?? { missing: true });
          return access;
        },
      );
      const mine = asking;
      mine
        .finally(() => {
          if (this.asking.get(key) === mine) this.asking.delete(key);
        })
        .catch(() => undefined);
      this.asking.set(key, mine);
    }
    return asking;
  }

  /** Forgets one user's standing in a circle, or everyone's (archive, visibility change). */
  invalidate(circleId: string, userId?: string): void {
    this.generation++;
    // Calls from now on ask afresh, not join a question asked before the change.
    if (userId) {
      this.cache.delete(`${circleId}:${userId}`);
      this.asking.delete(`${circleId}:${userId}`);
      return;
    }
    for (const key of this.cache.keys()) if (key.startsWith(`${circleId}:`)) this.cache.delete(key);
    for (const key of this.asking.keys()) if (key.startsWith(`${circleId}:`)) this.asking.delete(key);
  }
}

/** A BlockSource that remembers each pair briefly and forgets it when a block changes. */
export class CachedBlocks implements BlockSource {
  private readonly cache: LRUCache<string, boolean>;

  constructor(
    private readonly source: BlockSource,
    opts: { ttlMs?: number; max?: number } = {},
  ) {
    this.cache = new LRUCache({ max: opts.max ?? 100_000, ttl: opts.ttlMs ?? AUTHZ_CACHE_TTL_MS });
  }

  async blockedAmong(userId: string, others: readonly string[]): Promise<ReadonlySet<string>> {
    const blocked = new Set<string>();
    const unknown: string[] = [];
    for (const other of others) {
      const hit = this.cache.get(pairKey(userId, other));
      if (hit === undefined) unknown.push(other);
      else if (hit) blocked.add(other);
    }
    if (unknown.length > 0) {
      const answer = await this.source.blockedAmong(userId, unknown);
      for (const other of unknown) {
        const isBlocked = answer.has(other);
        this.cache.set(pairKey(userId, other), isBlocked);
        if (isBlocked) blocked.add(other);
      }
    }
    return blocked;
  }

  invalidate(userId: string, otherUserId: string): void {
    this.cache.delete(pairKey(userId, otherUserId));
  }
}

// A block works both ways, so both orders share one entry.
function pairKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** The sources every process's authorization reads, and how to stop listening for changes. */
export interface CachedSources extends AuthorizationSources {
  readonly memberships: CachedMemberships;
  readonly blocks: CachedBlocks;
  close(): void;
}

/**
 * Circle standing and blocks as the authorization step reads them: asked of the circle and user
 * services (by RPC, also when they run in this process, so both modes take the same path),
 * cached for a few seconds, and forgotten at once when the bus says they changed.
 */
export function createAuthorizationSources(deps: {
  readonly bus: EventBus;
  /** Connect clients calling as this process's service identity. */
  readonly clients: <S extends DescService>(service: S) => Client<S>;
}): CachedSources {
  let circles: Client<typeof CircleService> | undefined;
  let users: Client<typeof UserService> | undefined;
  const memberships = new CachedMemberships(remoteMemberships(() => (circles ??= deps.clients(CircleService))));
  const blocks = new CachedBlocks(remoteBlocks(() => (users ??= deps.clients(UserService))));
  const off = [
    deps.bus.subscribe(membershipTopic, (e) => {
      // Archiving and visibility changes concern everyone's standing in the circle.
      const everyone = e.change === 'archived' || e.change === 'visibility' || e.userId === undefined;
      memberships.invalidate(e.circleId, everyone ? undefined : e.userId);
    }),
    deps.bus.subscribe(blocksTopic, (e) => blocks.invalidate(e.userId, e.otherUserId)),
  ];
  return {
    memberships,
    blocks,
    close() {
      for (const unsubscribe of off) unsubscribe();
    },
  };
}
