import type { Database } from '@hearth/db';
import { postStore } from '../store/posts.js';
import type { PostsTables } from '../store/schema.js';

const BATCH = 500;

/**
 * Purges, with their responses and reactions: posts their authors deleted before
 * `deletedBefore` (the retention), and posts that expired by `now` (already gone from every
 * read at their time; this frees the rows). Deleted responses past the retention go too. One
 * batch per transaction; concurrent runs skip each other's rows. Returns how many posts went.
 */
export async function purgePosts(db: Database<PostsTables>, now: Date, retentionMs: number): Promise<number> {
  const deletedBefore = new Date(now.getTime() - retentionMs);
  let total = 0;
  for (;;) {
    const n = await db.transaction((tx) => postStore.purgeDue(tx, { now, deletedBefore, limit: BATCH }));
    total += n;
    if (n < BATCH) break;
  }
  await db.transaction((tx) => postStore.purgeDeletedResponses(tx, deletedBefore));
  return total;
}
