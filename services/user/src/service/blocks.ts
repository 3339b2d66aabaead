import { Code, ConnectError } from '@connectrpc/connect';
import { type Identity, blocksTopic } from '@hearth/authz';
import { type Database, type EventPublisher, isUuid, pageSizeOf } from '@hearth/db';
import { type BlockRow, blockStore } from '../store/blocks.js';
import { profileStore } from '../store/profiles.js';
import type { UsersTables } from '../store/schema.js';
import { userNotFound } from './model.js';
import { DEFAULT_PAGE_SIZE, type UserPages } from './pages.js';

export interface BlocksDeps {
  readonly db: Database<UsersTables>;
  readonly bus: EventPublisher;
  readonly now: () => Date;
  /** How many people one person may block (user_service.proto: 10,000). */
  readonly cap: number;
  readonly pages: UserPages;
}

export interface BlockedUser {
  readonly userId: string;
  readonly handle: string;
  readonly displayName: string;
  readonly createTime: Date;
}

/** How long other services may reuse a CheckBlocks answer, matching the host caches' lifetime. */
export const CHECK_BLOCKS_MAX_AGE_SEC = 5;

export class Blocks {
  constructor(private readonly d: BlocksDeps) {}

  /** Idempotent: an existing block is returned as it is, even at the cap. */
  async block(identity: Identity, userId: string): Promise<BlockedUser> {
    const me = identity.userId;
    if (userId === me) throw new ConnectError('you cannot block yourself', Code.InvalidArgument);
    return this.d.db.transaction(async (tx) => {
      // Locking the blocker's profile serialises their blocks, so concurrent ones cannot pass the cap together.
      if (!(await profileStore.findById(tx, me, { forUpdate: true }))) throw new ConnectError('profile not found', Code.NotFound);
      const target = await profileStore.findById(tx, userId);
      if (!target || target.handle === null) throw userNotFound();
      const deleted = target.state === 'deleted';
      const shown = { userId, handle: deleted ? '' : target.handle, displayName: deleted ? '' : target.display_name };
      const existing = await blockStore.find(tx, me, userId);
      if (existing) return { ...shown, createTime: existing.create_time };
      if ((await blockStore.countBy(tx, me)) >= this.d.cap) {
        throw new ConnectError(`you already block ${this.d.cap} people; unblock someone first`, Code.ResourceExhausted);
      }
      const { createTime } = await blockStore.insert(tx, me, userId, this.d.now());
      tx.onCommit(() => this.d.bus.publish(blocksTopic, { userId: me, otherUserId: userId, blocked: true }));
      return { ...shown, createTime };
    });
  }

  async unblock(identity: Identity, userId: string): Promise<void> {
    const me = identity.userId;
    await this.d.db.transaction(async (tx) => {
      if (await blockStore.delete(tx, me, userId)) {
        tx.onCommit(() => this.d.bus.publish(blocksTopic, { userId: me, otherUserId: userId, blocked: false }));
      }
    });
  }

  /** The caller's own blocks, most recent first; deleted accounts show with empty names. */
  async list(identity: Identity, pageSize: number, pageToken: string): Promise<{ blocks: BlockedUser[]; next: string }> {
    const size = pageSizeOf(pageSize, DEFAULT_PAGE_SIZE);
    const token = this.d.pages.blocks.decode(pageToken);
    const rows = await blockStore.list(this.d.db.db, identity.userId, token ? { time: token.t, id: token.id } : undefined, size + 1);
    const { items, next } = this.d.pages.blocks.page(rows, size, (r) => ({ t: r.create_time, id: r.blocked_id }));
    return { blocks: items.map(shownBlock), next };
  }

  /**
   * Ids that are not UUIDs belong to nobody, so nobody blocks them. The authorization step asks
   * before protovalidate has looked at the request; such an id must reach validation (and fail
   * there with InvalidArgument), not Postgres.
   */
  async check(userId: string, others: readonly string[]): Promise<ReadonlySet<string>> {
    if (!isUuid(userId)) return new Set();
    return blockStore.blockedAmong(
      this.d.db.db,
      userId,
      others.filter((id) => isUuid(id)),
    );
  }
}

function shownBlock(r: BlockRow): BlockedUser {
  const deleted = r.state === 'deleted';
  return {
    userId: r.blocked_id,
    handle: deleted ? '' : (r.handle ?? ''),
    displayName: deleted ? '' : r.display_name,
    createTime: r.create_time,
  };
}
