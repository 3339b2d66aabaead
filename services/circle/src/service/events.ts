import type { TransactionContext } from '@hearth/db';
import type { Role } from '../store/schema.js';

/** The bus topic the host's membership caches and the realtime gateway listen to. */
export const MEMBERSHIP_TOPIC = 'circle.membership';

/**
 * `visibility` concerns everyone's standing in the circle (a private circle hides from
 * non-members), so it carries no user and drops every cached answer about the circle.
 */
export type MembershipChange =
  | 'joined'
  | 'left'
  | 'removed'
  | 'banned'
  | 'unbanned'
  | 'role'
  | 'muted'
  | 'unmuted'
  | 'archived'
  | 'visibility';

export interface MembershipEvent {
  readonly circleId: string;
  readonly userId?: string;
  readonly change: MembershipChange;
  readonly role?: Role;
}

/** The part of the event bus the service publishes on (runtime.bus). */
export interface EventPublisher {
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
}

/**
 * Collects a transaction's membership events and publishes them once it has committed, in the
 * order they happened; a rollback publishes nothing.
 */
export class PendingEvents {
  private readonly events: MembershipEvent[] = [];

  constructor(tx: TransactionContext, bus: EventPublisher) {
    tx.onCommit(async () => {
      for (const e of this.events) await bus.publish(MEMBERSHIP_TOPIC, { ...e });
    });
  }

  add(e: MembershipEvent): void {
    this.events.push(e);
  }
}
