import type { Database } from '@hearth/db';
import { blockStore } from '../store/blocks.js';
import { profileStore } from '../store/profiles.js';
import type { UsersTables } from '../store/schema.js';
import { settingsStore } from '../store/settings.js';

const BATCH = 100;

/**
 * Purges every deleted account whose retention ended by `now`: its blocks (both directions) and
 * settings go, and its profile keeps only a tombstone (see profileStore.erase), so the handle is
 * free again. Each batch is one transaction; concurrent runs skip each other's rows. Returns
 * how many accounts were purged.
 */
export async function purgeDeletedAccounts(db: Database<UsersTables>, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const ids = await profileStore.lockDueForPurge(tx, now, BATCH);
      for (const id of ids) {
        await blockStore.deleteAllOf(tx, id);
        await settingsStore.delete(tx, id);
        await profileStore.erase(tx, id, now);
      }
      return ids.length;
    });
    total += n;
    if (n < BATCH) return total;
  }
}
