import type { BlockSource } from '@hearth/authz';
import type { SystemMessages } from '../chat/service/system.js';
import type { Database, EventPublisher } from '@hearth/db';
import { circleStore } from '../store/circles.js';
import { memberStore } from '../store/members.js';
import type { CirclesTables, Db } from '../store/schema.js';
import { type Actor, type CircleView, errors } from './model.js';
import type { CirclePages } from './pages.js';

/** What the circle services share. */
export interface ServiceDeps {
  readonly db: Database<CirclesTables>;
  readonly bus: EventPublisher;
  /** The service's clock: invites and mutes expire by it; tests move it. */
  readonly now: () => Date;
  readonly pages: CirclePages;
  /** Joins and leaves as messages of the circle's sequence (chat/service/system.ts). */
  readonly system: SystemMessages;
}

export interface DiscoverDeps extends ServiceDeps {
  /** Who has a block with whom (the user service's, cached by the host). */
  readonly blocks: BlockSource;
}

/**
 * Reads a circle as `actor` may see it: NotFound when it does not exist or is private and the
 * actor is neither a member nor staff. With `lock`, takes the circle's row lock, which every
 * change to its membership, invites and own fields holds until commit, so they serialise.
 */
export async function loadCircle(db: Db, circleId: string, actor: Actor, opts: { lock?: boolean } = {}): Promise<CircleView> {
  const circle = await circleStore.find(db, circleId, { forUpdate: opts.lock ?? false });
  if (!circle) throw errors.circleNotFound();
  const me = await memberStore.find(db, circleId, actor.userId);
  if (circle.visibility === 'private' && !me && !actor.staff) throw errors.circleNotFound();
  return { circle, me };
}
