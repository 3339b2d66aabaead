import { Code, ConnectError } from '@connectrpc/connect';
import type { Caller } from '@hearth/authz';
import { auditStore } from '../store/audit.js';
import { circleStore } from '../store/circles.js';
import { memberStore } from '../store/members.js';
import type { ServiceDeps } from './deps.js';
import { PendingEvents, memberSnapshot } from './events.js';

/** RemoveUserFromCircles: a deleted account leaves every circle it was in. */
export class AccountRemoval {
  constructor(private readonly d: ServiceDeps) {}

  /**
   * One transaction per circle, so a long list never holds many circle locks at once; a call
   * that fails half-way is finished by the caller's retry (the call is idempotent). Owned
   * circles pass to their longest-serving host, or are archived when there is none. Bans and
   * invites stay as records.
   */
  async removeUser(caller: Caller, userId: string): Promise<{ circleCount: number; archivedCount: number }> {
    if (caller.kind !== 'service') throw new ConnectError('only Hearth services may call this', Code.PermissionDenied);
    const actor = `service:${caller.service.service}`;
    let circleCount = 0;
    let archivedCount = 0;
    for (const circleId of await memberStore.circleIdsOf(this.d.db.db, userId)) {
      const outcome = await this.d.db.transaction(async (tx) => {
        const circle = await circleStore.find(tx, circleId, { forUpdate: true });
        const me = circle ? await memberStore.find(tx, circleId, userId) : undefined;
        if (!circle || !me) return undefined;
        const events = new PendingEvents(tx, this.d.bus);
        const now = this.d.now();
        await memberStore.delete(tx, circleId, userId);
        await circleStore.addToMemberCount(tx, circleId, -1);
        await this.d.system.left(tx, circleId, userId, now);
        events.add({ circleId, userId, change: 'removed' });
        let archived = false;
        let heir: string | undefined;
        if (me.role === 'owner') {
          const host = await memberStore.longestServingHost(tx, circleId);
          if (host) {
            heir = host.user_id;
            const heirs = await memberStore.update(tx, circleId, heir, { role: 'owner' });
            await circleStore.update(tx, circleId, { owner_id: heir }, now);
            events.add({ circleId, userId: heir, change: 'role', role: 'owner', member: memberSnapshot(heirs) });
          } else if (!circle.archive_time) {
            await circleStore.update(tx, circleId, { archive_time: now }, now);
            events.add({ circleId, userId, change: 'archived' });
            archived = true;
          }
        }
        await auditStore.insert(tx, {
          actor,
          action: 'account.removed',
          circleId,
          target: userId,
          details: { role: me.role, ...(heir ? { heir } : {}), archived },
          now,
        });
        return { archived };
      });
      if (!outcome) continue;
      circleCount++;
      if (outcome.archived) archivedCount++;
    }
    return { circleCount, archivedCount };
  }
}
