/**
 * Seeds posts straight into the post service's table, in batches of one multi-row insert each,
 * with bodies sealed as the service seals them (so reads decrypt them), spread over the past
 * year and over the given circles and authors. For benchmarks (bench:feed): a million posts
 * take about a minute. Not a way to publish posts: nothing passes the content checks.
 */
import { randomBytes } from 'node:crypto';
import { type Database, FieldCipher, type RingKey, newId } from '@hearth/db';
import { SingleBar } from 'cli-progress';
import type { Kysely } from 'kysely';

/** The columns seeding writes (the post service's schema has them all). */
interface SeedTables {
  posts: Record<string, unknown>;
}

export interface SeedPostsOptions {
  readonly circleIds: readonly string[];
  readonly authorIds: readonly string[];
  readonly total: number;
  /** The post service's key ring (HEARTH_POST_BODY_KEYS, parsed). */
  readonly keys: readonly RingKey[];
  /** Told after each batch: how many are stored so far. */
  readonly onProgress?: (done: number) => void;
}

const BATCH = 1_000;
const YEAR_MS = 365 * 86_400_000;

/** Writes `total` posts; returns how many. `db` is the post service's (its schema on the search path). */
export async function seedPosts(db: Database<unknown>, opts: SeedPostsOptions): Promise<number> {
  const cipher = new FieldCipher(opts.keys);
  const now = Date.now();
  const run = randomBytes(4).toString('hex');
  let done = 0;
  while (done < opts.total) {
    const n = Math.min(BATCH, opts.total - done);
    const rows = Array.from({ length: n }, (_, k) => {
      const i = done + k;
      const id = newId();
      const text = `Seeded post ${i}: a day of small steps, and a **thank you** to everyone here.`;
      const sealed = cipher.seal(text, id);
      return {
        id,
        circle_id: opts.circleIds[i % opts.circleIds.length]!,
        author_id: opts.authorIds[i % opts.authorIds.length]!,
        idempotency_key: `seed-${run}-${i}`,
        request_digest: cipher.digest(text, sealed.keyId),
        digest_key_id: sealed.keyId,
        body: sealed.data,
        body_key_id: sealed.keyId,
        anonymous: i % 7 === 0,
        visibility: i % 3 === 0 ? 'public' : 'members',
        create_time: new Date(now - Math.floor(Math.random() * YEAR_MS)),
      };
    });
    await (db.db as unknown as Kysely<SeedTables>).insertInto('posts').values(rows).execute();
    done += n;
    opts.onProgress?.(done);
  }
  return done;
}

/** A progress bar on stderr for `total` items (the seeding tools' own). */
export function progressBar(label: string, total: number): { update(done: number): void; stop(): void } {
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, stream: process.stderr, hideCursor: true });
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
