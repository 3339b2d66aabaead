import { Code, ConnectError } from '@connectrpc/connect';
import { type BlockSource, type MembershipSource, type UserCirclesSource, assertMayWrite, fieldError, fieldViolation, isMember, mutedError } from '@hearth/authz';
import { CreatePostRequestSchema, EditPostRequestSchema } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';
import { type Database, type FieldCipher, type PageCodec, assertVersion, newId } from '@hearth/db';
import { LRUCache } from 'lru-cache';
import { type TalliedPostRow, type TimePosition, postStore } from '../store/posts.js';
import { type ReactionTally, reactionStore } from '../store/reactions.js';
import type { ContentState, Db, PostRow, PostsTables, Visibility } from '../store/schema.js';
import { type ContentChecks, refuseBlocked } from './checks.js';
import { type Actor, type PostPages, type PostView, postNotFound } from './model.js';
import { keysetPage } from './paging.js';
import { RENDERER_VERSION, renderBody } from './render.js';
import type { PostLimits } from './limits.js';
import type { CirclePageCache } from './page-cache.js';

export interface PostsDeps {
  readonly db: Database<PostsTables>;
  readonly cipher: FieldCipher;
  /** Circle standing, from the circle service (cached, forgotten when it changes). */
  readonly memberships: MembershipSource;
  readonly blocks: BlockSource;
  readonly checks: ContentChecks;
  readonly pages: PostPages;
  /** The circles a reader is in, for the feed. */
  readonly userCircles: UserCirclesSource;
  readonly limits: PostLimits;
  /** First pages of circle lists in Redis (cache-aside; every write moves the circle on). */
  readonly pageCache: CirclePageCache;
  readonly now: () => Date;
}

export interface NewPost {
  readonly idempotencyKey: string;
  readonly circleId: string;
  readonly body: string;
  readonly contentWarning: string;
  readonly anonymous: boolean;
  readonly visibility: Visibility;
  readonly expireTime?: Date | undefined;
}

export interface PostEdit {
  readonly id: string;
  readonly version: bigint;
  readonly body?: string | undefined;
  readonly contentWarning?: string | undefined;
  readonly visibility?: Visibility | undefined;
}

/** How soon and how late a post may be set to vanish (post_service.proto CreatePostRequest). */
const MIN_LIFETIME_MS = 60_000;
const MAX_LIFETIME_MS = 90 * 86_400_000;
const DEFAULT_PAGE = 20;
/** Rendered bodies kept, by post id and version (rendering is the costly part of a read). */
const RENDERED = 5_000;

/** Posts: writing them, and reading them as the caller may see them. */
export class Posts {
  private readonly rendered = new LRUCache<string, string>({ max: RENDERED });

  constructor(private readonly d: PostsDeps) {}

  /**
   * Publishes a post, or returns the one an earlier call with the same idempotency key made
   * (AlreadyExists if that one asked for something else), whatever changed since.
   */
  async create(actor: Actor, input: NewPost): Promise<{ view: PostView; crisisSuggested: boolean }> {
    const db = this.d.db.db;
    const asked = requestText(input);
    const earlier = await postStore.findByKey(db, actor.userId, input.idempotencyKey);
    if (earlier) return { view: this.replay(actor, earlier, asked), crisisSuggested: false };
    await this.d.limits.writes.check(actor.userId);
    const now = this.d.now();
    if (input.expireTime) checkLifetime(input.expireTime, now);
    const access = await this.d.memberships.membership(input.circleId, actor.userId);
    assertMayWrite(access, now, 'only members may post in this circle');
    if (access.archived) throw new ConnectError('the circle is archived', Code.FailedPrecondition);
    const verdict = await this.d.checks.check({
      kind: 'post',
      authorId: actor.userId,
      circleId: input.circleId,
      body: input.body,
      contentWarning: input.contentWarning,
    });
    refuseBlocked(CreatePostRequestSchema, verdict);
    const id = newId();
    const body = this.d.cipher.seal(input.body, id);
    const row = await postStore.insert(db, {
      id,
      circle_id: input.circleId,
      author_id: actor.userId,
      idempotency_key: input.idempotencyKey,
      request_digest: this.d.cipher.digest(asked, body.keyId),
      digest_key_id: body.keyId,
      body: body.data,
      content_warning: input.contentWarning ? this.d.cipher.seal(input.contentWarning, `${id}:cw`).data : null,
      body_key_id: body.keyId,
      anonymous: input.anonymous,
      visibility: input.visibility,
      create_time: now,
      expire_time: input.expireTime ?? null,
    });
    if (!row) {
      // A concurrent call with the same key stored it first.
      const winner = await postStore.findByKey(db, actor.userId, input.idempotencyKey);
      if (!winner) throw new ConnectError('the post could not be stored just now; try again', Code.Aborted);
      return { view: this.replay(actor, winner, asked), crisisSuggested: false };
    }
    void this.d.limits.writes.count(actor.userId);
    this.changed(row.circle_id);
    return { view: this.present(actor, row), crisisSuggested: verdict.crisisSuggested };
  }

  /**
   * The author changes the text, content warning or visibility of their PUBLISHED post, while
   * still a member who is not muted; the new text passes the content checks first.
   */
  async edit(actor: Actor, change: PostEdit): Promise<{ view: PostView; crisisSuggested: boolean }> {
    await this.d.limits.writes.check(actor.userId);
    const edited = await this.d.db.transaction(async (tx) => {
      const now = this.d.now();
      const row = await this.ownPost(tx, actor, change.id);
      if (row.state !== 'published') throw new ConnectError('only a published post can be edited', Code.FailedPrecondition);
      assertVersion('post', row.version, change.version);
      const access = await this.d.memberships.membership(row.circle_id, actor.userId);
      assertMayWrite(access, now, 'only members may edit their posts in this circle');
      const before = this.present(actor, row);
      const body = change.body ?? before.body;
      const contentWarning = change.contentWarning ?? before.contentWarning;
      const verdict = await this.d.checks.check({ kind: 'post', authorId: actor.userId, circleId: row.circle_id, body, contentWarning });
      refuseBlocked(EditPostRequestSchema, verdict);
      const sealed = this.d.cipher.seal(body, row.id);
      const updated = await postStore.update(tx, row.id, {
        body: sealed.data,
        body_key_id: sealed.keyId,
        content_warning: contentWarning ? this.d.cipher.seal(contentWarning, `${row.id}:cw`).data : null,
        ...(change.visibility ? { visibility: change.visibility } : {}),
        edit_time: now,
      });
      const [view] = await this.views(actor, [updated]);
      return { view: view!, crisisSuggested: verdict.crisisSuggested };
    });
    void this.d.limits.writes.count(actor.userId);
    this.changed(edited.view.row.circle_id);
    return edited;
  }

  /**
   * The author deletes their post: a tombstone keeps its id, circle and times; the text is
   * erased at once. Deleting it again returns the tombstone. `version` 0 deletes any version.
   */
  async delete(actor: Actor, id: string, version: bigint): Promise<PostView> {
    const view = await this.d.db.transaction(async (tx) => {
      const now = this.d.now();
      const row = await this.ownPost(tx, actor, id);
      if (row.state === 'deleted') return this.present(actor, row);
      if (version !== 0n) assertVersion('post', row.version, version);
      const deleted = await postStore.update(tx, row.id, { state: 'deleted', body: null, body_key_id: null, content_warning: null, delete_time: now });
      return this.present(actor, deleted);
    });
    this.changed(view.row.circle_id);
    return view;
  }

  /** The caller's own post, locked: NotFound if they cannot see it, PermissionDenied if it is someone else's. */
  private async ownPost(tx: Db, actor: Actor, id: string): Promise<PostRow> {
    const row = await this.readable(actor, id, tx);
    if (row.author_id !== actor.userId) throw new ConnectError('only the author may change a post', Code.PermissionDenied);
    return row;
  }

  /** The post's row if the caller may see it (NotFound otherwise); locked when read in `tx`. */
  async readable(actor: Actor, postId: string, tx?: Db): Promise<PostRow> {
    const row = await postStore.find(tx ?? this.d.db.db, postId, this.d.now(), { forUpdate: tx !== undefined });
    if (!row || !(await this.visible(actor, row))) throw postNotFound();
    return row;
  }

  /** One post, if the caller may see it (NotFound otherwise, so its existence is not revealed). */
  async get(actor: Actor, id: string): Promise<PostView> {
    const [view] = await this.views(actor, [await this.readable(actor, id)]);
    return view!;
  }

  /**
   * A circle's published posts, newest first: every post for members and staff, PUBLIC ones
   * for others who can see the circle (the gate checked that), none by someone with a block
   * with the caller.
   */
  async listCircle(actor: Actor, circleId: string, pageSize: number, pageToken: string): Promise<{ views: PostView[]; next: string }> {
    const access = await this.d.memberships.membership(circleId, actor.userId);
    const member = isMember(access);
    const publicOnly = !member && !actor.staff;
    const now = this.d.now();
    return this.page(actor, this.d.pages.circle, circleId, pageSize, pageToken, async (after, limit) => {
      const read = () => postStore.circlePage(this.d.db.db, circleId, { after, limit, publicOnly, now, viewerId: actor.userId });
      if (after) return read();
      // The first page, the hot one, from the cache when it is current and nothing in it expired.
      const variant = `${publicOnly ? 'public' : 'all'}:${limit}`;
      const cached = await this.d.pageCache.get(circleId, variant);
      if (cached.rows && cached.rows.every((r) => !r.expire_time || r.expire_time > now)) return cached.rows;
      const rows = await read();
      void this.d.pageCache.put(circleId, variant, cached.gen, rows);
      return rows;
    });
  }

  /** A write changed what the circle's lists show. */
  changed(circleId: string): void {
    void this.d.pageCache.invalidate(circleId);
  }

  /**
   * The caller's feed: published posts of every circle they are in (the 1,000 they joined
   * last), newest first, none by someone with a block with them. A page costs what the first
   * does, however deep (keyset on create_time and id, per circle, merged).
   */
  async listFeed(actor: Actor, pageSize: number, pageToken: string): Promise<{ views: PostView[]; next: string }> {
    const circleIds = await this.d.userCircles.circleIds(actor.userId);
    const now = this.d.now();
    return this.page(actor, this.d.pages.feed, actor.userId, pageSize, pageToken, (after, limit) =>
      postStore.feedPage(this.d.db.db, circleIds, { after, limit, now, viewerId: actor.userId }),
    );
  }

  /**
   * One person's posts the caller can see, newest first (post_service.proto ListUserPosts):
   * their anonymous posts only to themselves and staff, their HIDDEN and REMOVED ones only to
   * themselves, and nothing at all across a block (an empty list, not NotFound, so the list
   * reveals neither the block nor the person).
   */
  async listUser(actor: Actor, userId: string, pageSize: number, pageToken: string): Promise<{ views: PostView[]; next: string }> {
    const self = actor.userId === userId;
    if (!self && !actor.staff && (await this.d.blocks.blockedAmong(actor.userId, [userId])).has(userId)) return { views: [], next: '' };
    const now = this.d.now();
    const states: ContentState[] = self ? ['published', 'hidden', 'removed'] : ['published'];
    const { items, next } = await keysetPage({
      codec: this.d.pages.user,
      scope: `${actor.userId}:${userId}`,
      pageSize,
      defaultSize: DEFAULT_PAGE,
      pageToken,
      read: (after, limit) => postStore.authorPage(this.d.db.db, userId, { after, limit, now, states, anonymous: self || actor.staff, viewerId: actor.userId }),
      keep: async (rows) => {
        if (self || actor.staff) return () => true;
        const seen = new Map<string, boolean>();
        for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, await this.visible(actor, r));
        return (r) => seen.get(r.id) ?? false;
      },
    });
    return { views: await this.views(actor, items), next };
  }

  private async page(
    actor: Actor,
    codec: PageCodec<{ t: Date; id: string }>,
    scope: string,
    pageSize: number,
    pageToken: string,
    read: (after: TimePosition | undefined, limit: number) => Promise<PostRow[]>,
  ): Promise<{ views: PostView[]; next: string }> {
    const { items, next } = await keysetPage({
      codec,
      scope,
      pageSize,
      defaultSize: DEFAULT_PAGE,
      pageToken,
      read,
      keep: (rows) => this.notBlocked(actor, rows),
    });
    return { views: await this.views(actor, items), next };
  }

  /** Post.proto's rule of who sees a post. */
  private async visible(actor: Actor, row: PostRow): Promise<boolean> {
    if (actor.staff || row.author_id === actor.userId) return true;
    if (row.state === 'hidden' || row.state === 'removed') return false;
    if ((await this.d.blocks.blockedAmong(actor.userId, [row.author_id])).has(row.author_id)) return false;
    const access = await this.d.memberships.membership(row.circle_id, actor.userId);
    if (!access) return false;
    if (isMember(access)) return true;
    return row.visibility === 'public' && access.visibility === 'public' && !access.banned;
  }

  /** Keeps rows whose authors have no block with the caller (staff see everyone). */
  async notBlocked<R extends { author_id: string }>(actor: Actor, rows: readonly R[]): Promise<(row: R) => boolean> {
    if (actor.staff) return () => true;
    const blocked = await this.blockedAuthors(actor, rows);
    return (r) => !blocked.has(r.author_id);
  }

  /** The authors among `rows` with a block with the caller (never the caller). */
  private async blockedAuthors(actor: Actor, rows: ReadonlyArray<{ author_id: string }>): Promise<ReadonlySet<string>> {
    const authors = [...new Set(rows.map((r) => r.author_id))].filter((a) => a !== actor.userId);
    return authors.length > 0 ? this.d.blocks.blockedAmong(actor.userId, authors) : new Set();
  }

  private replay(actor: Actor, earlier: PostRow, asked: string): PostView {
    const same = this.d.cipher.digestMatches(asked, { digest: earlier.request_digest, keyId: earlier.digest_key_id });
    if (!same) throw new ConnectError('idempotency_key was already used for a different post', Code.AlreadyExists);
    return this.present(actor, earlier);
  }

  /** Opens the text the caller may read; a deleted or removed post keeps none. */
  private present(actor: Actor, row: PostRow, reactions: ReactionTally = reactionStore.none()): PostView {
    const authorShown = !row.anonymous || row.author_id === actor.userId || actor.staff;
    const gone = row.state === 'deleted' || row.state === 'removed';
    if (gone || row.body === null || row.body_key_id === null) return { row, body: '', contentWarning: '', html: '', authorShown, reactions: reactionStore.none() };
    const body = this.d.cipher.open({ keyId: row.body_key_id, data: row.body }, row.id);
    const contentWarning = row.content_warning ? this.d.cipher.open({ keyId: row.body_key_id, data: row.content_warning }, `${row.id}:cw`) : '';
    const key = `${row.id}:${row.version}:${RENDERER_VERSION}`;
    let html = this.rendered.get(key);
    if (html === undefined) this.rendered.set(key, (html = renderBody(body)));
    return { row, body, contentWarning, html, authorShown, reactions };
  }

  /** Rows as the caller sees them, with their reactions (one query for all of them). */
  private async views(actor: Actor, rows: ReadonlyArray<PostRow | TalliedPostRow>): Promise<PostView[]> {
    // Lists read the tallies with their rows; the rest (one post, a cached page) ask here.
    const missing = rows.filter((r) => !('reaction_tally' in r)).map((r) => r.id);
    const asked = missing.length > 0 ? await reactionStore.tallies(this.d.db.db, missing, actor.userId) : new Map<string, ReactionTally>();
    return rows.map((r) => this.present(actor, r, 'reaction_tally' in r ? tallyFrom(r.reaction_tally) : asked.get(r.id)));
  }

  /**
   * Adds or removes one of the caller's reactions to a post they can see (adding: to a
   * PUBLISHED post, unless they are muted in its circle); idempotent. The tally after it.
   */
  async react(actor: Actor, postId: string, kind: number, add: boolean): Promise<ReactionTally> {
    const db = this.d.db.db;
    const row = await this.readable(actor, postId);
    if (add) {
      if (row.state !== 'published') throw new ConnectError('only a published post can be reacted to', Code.FailedPrecondition);
      await this.d.limits.reactions.check(actor.userId);
      const now = this.d.now();
      const access = await this.d.memberships.membership(row.circle_id, actor.userId);
      if (access?.mutedUntil && access.mutedUntil > now) throw mutedError(access.mutedUntil);
      if (await reactionStore.add(db, { post_id: row.id, user_id: actor.userId, kind, create_time: now })) void this.d.limits.reactions.count(actor.userId);
    } else {
      await reactionStore.remove(db, row.id, actor.userId, kind);
    }
    return (await reactionStore.tallies(db, [row.id], actor.userId)).get(row.id) ?? reactionStore.none();
  }
}

/** What a CreatePost asked for, as its idempotency digest covers it. */
function requestText(input: NewPost): string {
  return JSON.stringify([input.circleId, input.body, input.contentWarning, input.anonymous, input.visibility, input.expireTime?.toISOString() ?? '']);
}

function checkLifetime(expireTime: Date, now: Date): void {
  const ms = expireTime.getTime() - now.getTime();
  if (ms >= MIN_LIFETIME_MS && ms <= MAX_LIFETIME_MS) return;
  throw fieldError([fieldViolation(CreatePostRequestSchema, 'expireTime', 'expire_time.window', 'expire_time must be between a minute and 90 days from now')]);
}

/** A tally read with its row, as the caller sees it. */
function tallyFrom(rows: TalliedPostRow['reaction_tally']): ReactionTally {
  return { counts: rows.map((t) => ({ kind: t.kind, count: t.n })), mine: rows.filter((t) => t.mine).map((t) => t.kind) };
}
