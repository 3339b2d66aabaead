import { newId } from '@hearth/db';
import type { Db } from './accounts.js';

/** auth.outbox: events for other services, written in the transaction of the change; a relay delivers them. */
export const outboxStore = {
  async insert(db: Db, topic: string, payload: Record<string, unknown>, now: Date): Promise<void> {
    await db.insertInto('outbox').values({ id: newId(), topic, payload: JSON.stringify(payload), created_at: now }).execute();
  },
};
