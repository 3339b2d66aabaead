import type { Client } from '@connectrpc/connect';
import type { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import type { EventBus } from '@hearth/db';
import { AUTHZ_CACHE_TTL_MS } from './sources.js';
import { membershipTopic } from './topics.js';
import { LRUCache } from 'lru-cache';

/** The circles a person is in (CircleService.ListUserCircleIds), for lists across a person's circles (feeds). */
export interface UserCirclesSource {
  circleIds(userId: string): Promise<readonly string[]>;
}

/**
 * The circles a person is in, remembered for a few seconds and forgotten at once when a
 * membership event names them (events may be lost, hence the short life). Calls that miss
 * together share one question.
 */
export class CachedUserCircles implements UserCirclesSource {
  private readonly cache: LRUCache<string, readonly string[]>;
  private readonly asking = new Map<string, Promise<readonly string[]>>();
  private generation = 0;

  constructor(
    private readonly source: UserCirclesSource,
    opts: { ttlMs?: number; max?: number } = {},
  ) {
    this.cache = new LRUCache({ max: opts.max ?? 10_000, ttl: opts.ttlMs ?? AUTHZ_CACHE_TTL_MS });
  }

  async circleIds(userId: string): Promise<readonly string[]> {
    const hit = this.cache.get(userId);
    if (hit) return hit;
    let asking = this.asking.get(userId);
    if (!asking) {
      const generation = this.generation;
      const mine = this.source.circleIds(userId).then((ids) => {
        // A change while asking: the answer may predate it; do not keep it.
        if (this.generation === generation) this.cache.set(userId, ids);
        return ids;
      });
      mine
        .finally(() => {
          if (this.asking.get(userId) === mine) this.asking.delete(userId);
        })
        .catch(() => undefined);
      this.asking.set(userId, (asking = mine));
    }
    return asking;
  }

  /** Forgets a person's circles whenever the bus says their standing somewhere changed; returns how to stop. */
  follow(bus: EventBus): () => void {
    return bus.subscribe(membershipTopic, (e) => {
      if (e.userId) this.invalidate(e.userId);
    });
  }

  invalidate(userId: string): void {
    this.generation++;
    this.cache.delete(userId);
    this.asking.delete(userId);
  }
}

/** Asks the circle service (ListUserCircleIds, with this process's service identity). */
export function remoteUserCircles(client: () => Client<typeof CircleService>): UserCirclesSource {
  let circles: Client<typeof CircleService> | undefined;
  return { circleIds: async (userId) => (await (circles ??= client()).listUserCircleIds({ userId })).circleIds };
}
