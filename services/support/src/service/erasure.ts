import type { Database } from '@hearth/db';
import { safetyPlanStore } from '../store/safety-plans.js';
import type { SupportTables } from '../store/schema.js';
import { offerStore } from '../store/support-offers.js';
import { requestStore } from '../store/support-requests.js';

/**
 * What a deleted account leaves in the support service goes, in one transaction and for real
 * (EraseUserData): the safety plan, the account's requests with every offer on them, and its
 * offers on other people's requests, whose counts and states follow as if the offers had been
 * withdrawn (a request left with no accepted offer is OPEN again).
 */
export async function eraseUserData(db: Database<SupportTables>, userId: string, now: Date): Promise<{ requests: number; offers: number }> {
  return db.transaction(async (tx) => {
    await safetyPlanStore.delete(tx, userId);
    const requests = await requestStore.deleteOf(tx, userId);
    // Requests before offers, the lock order of every write in this service.
    const helped = [...new Set((await offerStore.ofHelper(tx, userId, { lock: false })).map((o) => o.request_id))].sort();
    for (const requestId of helped) await requestStore.find(tx, requestId, { forUpdate: true });
    const offers = await offerStore.ofHelper(tx, userId, { lock: true });
    await offerStore.deleteOfHelper(tx, userId);
    for (const requestId of new Set(offers.filter((o) => o.state === 'offered' || o.state === 'accepted').map((o) => o.request_id))) {
      const live = offers.filter((o) => o.request_id === requestId && (o.state === 'offered' || o.state === 'accepted')).length;
      const request = await requestStore.find(tx, requestId);
      if (!request) continue;
      const unmatched = request.state === 'matched' && (await offerStore.acceptedCount(tx, requestId)) === 0;
      await requestStore.touch(tx, requestId, { offerDelta: -live, at: now, ...(unmatched ? { state: 'open' as const } : {}) });
    }
    return { requests, offers: offers.length };
  });
}
