import { type MembershipEvent, membershipTopic } from '@hearth/authz';
import type { CommitHooks, EventPublisher } from '@hearth/db';

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
