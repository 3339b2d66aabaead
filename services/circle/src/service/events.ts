import { type MembershipEvent, membershipTopic } from '@hearth/authz';
import type { CommitHooks, EventPublisher } from '@hearth/db';
import type { MemberRow } from '../store/schema.js';

/**
 * Collects a transaction's membership events and publishes them on `circle.membership` once it
 * has committed, in the order they happened; a rollback publishes nothing.
 */
export class PendingEvents {
  private readonly events: MembershipEvent[] = [];

  constructor(tx: CommitHooks, bus: EventPublisher) {
    tx.onCommit(async () => {
      for (const e of this.events) await bus.publish(membershipTopic, e);
    });
  }

  add(e: MembershipEvent): void {
    this.events.push(e);
  }
}

/** A membership as the event carries it (for the member's own devices). */
export function memberSnapshot(m: MemberRow): NonNullable<MembershipEvent['member']> {
  return {
    joinTime: m.join_time.toISOString(),
    version: Number(m.version),
    ...(m.mute_expire_time ? { muteExpireTime: m.mute_expire_time.toISOString() } : {}),
  };
}
