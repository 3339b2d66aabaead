import type { RedisAccess } from '@hearth/platform';
import type { PostRow } from '../store/schema.js';

/** How long a cached first page lives at most (bounds staleness if an invalidation was lost). */
const TTL_SEC = 60;

type Stored = { readonly gen: string; readonly rows: ReadonlyArray<Record<string, unknown>> };

const DATES = ['create_time', 'edit_time', 'delete_time', 'expire_time'] as const;
const BYTES = ['request_digest', 'body', 'content_warning'] as const;

/**
 * The first page of a circle's posts in Redis (cache-aside): the rows as stored (bodies still
 * sealed), before the per-reader steps (blocks, rendering, reactions) that every read still
 * does. Every write in the circle moves the circle's generation; a cached page from an older
 * generation is never used, so a reader sees a write at once. A page is one round trip (the
 * generation and the page together) and is only ever an optimisation: without Redis, or while
 * it is down, reads go to Postgres, correct and a little slower.
 */
export class CirclePageCache {
  constructor(private readonly redis: RedisAccess | undefined) {}

  /** The cached rows, if any and current; undefined on a miss (or without Redis). */
  async get(circleId: string, variant: string): Promise<{ rows: PostRow[] | undefined; gen: string }> {
    const redis = this.redis;
    if (!redis?.available) return { rows: undefined, gen: '' };
    try {
      const [gen, text] = await redis.run((r) => r.mget(genKey(circleId), pageKey(circleId, variant)));
      const current = gen ?? '0';
      if (!text) return { rows: undefined, gen: current };
      const stored = JSON.parse(text) as Stored;
      return { rows: stored.gen === current ? stored.rows.map(revive) : undefined, gen: current };
    } catch {
      return { rows: undefined, gen: '' };
    }
  }

  /** Keeps a page read at generation `gen` (a write since then has moved it on: then it is never read). */
  async put(circleId: string, variant: string, gen: string, rows: readonly PostRow[]): Promise<void> {
    const redis = this.redis;
    if (!gen || !redis?.available) return;
    const stored: Stored = { gen, rows: rows.map(flatten) };
    await redis.run((r) => r.set(pageKey(circleId, variant), JSON.stringify(stored), 'EX', TTL_SEC)).catch(() => undefined);
  }

  /** A write in the circle committed: every cached page of it is out of date. */
  async invalidate(circleId: string): Promise<void> {
    const redis = this.redis;
    if (!redis?.available) return;
    await redis.run((r) => r.incr(genKey(circleId))).catch(() => undefined);
  }
}

const genKey = (circleId: string) => `post:circle-gen:${circleId}`;
const pageKey = (circleId: string, variant: string) => `post:circle-page:${circleId}:${variant}`;

function flatten(row: PostRow): Record<string, unknown> {
  // A reader's own reactions are theirs: a cached row keeps none (reads ask for them).
  const { reaction_tally: _, ...own } = row as PostRow & { reaction_tally?: unknown };
  const out: Record<string, unknown> = { ...own };
  for (const k of DATES) out[k] = row[k]?.toISOString() ?? null;
  for (const k of BYTES) out[k] = row[k] ? Buffer.from(row[k]).toString('base64') : null;
  return out;
}

function revive(flat: Record<string, unknown>): PostRow {
  const out: Record<string, unknown> = { ...flat };
  for (const k of DATES) out[k] = typeof flat[k] === 'string' ? new Date(flat[k]) : null;
  for (const k of BYTES) out[k] = typeof flat[k] === 'string' ? Buffer.from(flat[k], 'base64') : null;
  return out as unknown as PostRow;
}
