import { Code, ConnectError } from '@connectrpc/connect';
import { type MembershipSource, assertMayWrite } from '@hearth/authz';
import { CreateResponseRequestSchema, EditResponseRequestSchema } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';
import { type Database, type FieldCipher, type PageCodec, assertVersion, newId } from '@hearth/db';
import { LRUCache } from 'lru-cache';
import { postStore } from '../store/posts.js';
import { responseStore } from '../store/responses.js';
import type { Db, PostRow, PostsTables, ResponseRow } from '../store/schema.js';
import { type ContentChecks, refuseBlocked } from './checks.js';
import type { Actor } from './model.js';
import { keysetPage } from './paging.js';
import type { PostLimits } from './limits.js';
import type { Posts } from './posts.js';
import { RENDERER_VERSION, renderBody } from './render.js';

export interface ResponsesDeps {
  readonly db: Database<PostsTables>;
  readonly cipher: FieldCipher;
  readonly memberships: MembershipSource;
  readonly checks: ContentChecks;
  readonly posts: Posts;
  readonly limits: PostLimits;
  readonly pages: PageCodec<{ t: Date; id: string }>;
  readonly now: () => Date;
}

/** A response as the caller may see it. */
export interface ResponseView {
  readonly row: ResponseRow;
  /** Its post's circle. */
  readonly circleId: string;
  readonly body: string;
  readonly html: string;
  readonly authorShown: boolean;
  /** PostResponse.by_post_author, where saying so reveals nothing. */
  readonly byPostAuthor: boolean;
}

const DEFAULT_PAGE = 50;

/** Responses to posts: flat, oldest first, visible as their post is. */
export class Responses {
  private readonly rendered = new LRUCache<string, string>({ max: 5_000 });

  constructor(private readonly d: ResponsesDeps) {}

  /**
   * Responds to a PUBLISHED post the caller can see, as a member of its circle who is not muted;
   * idempotent by key. The author of an anonymous post responds anonymously, always.
   */
  async create(actor: Actor, input: { idempotencyKey: string; postId: string; body: string; anonymous: boolean }): Promise<{ view: ResponseView; crisisSuggested: boolean }> {
    const asked = JSON.stringify([input.postId, input.body, input.anonymous]);
    const earlier = await responseStore.findByKey(this.d.db.db, actor.userId, input.idempotencyKey);
    if (earlier) return { view: await this.replay(actor, earlier, asked), crisisSuggested: false };
    await this.d.limits.writes.check(actor.userId);
    const created = await this.d.db.transaction(async (tx) => {
      const post = await this.d.posts.readable(actor, input.postId, tx);
      if (post.state !== 'published') throw new ConnectError('only a published post can be responded to', Code.FailedPrecondition);
      await this.assertMayWrite(actor, post);
      const verdict = await this.d.checks.check({ kind: 'response', authorId: actor.userId, circleId: post.circle_id, body: input.body });
      refuseBlocked(CreateResponseRequestSchema, verdict);
      const id = newId();
      const sealed = this.d.cipher.seal(input.body, id);
      const byPostAuthor = post.author_id === actor.userId;
      const row = await responseStore.insert(tx, {
        id,
        post_id: post.id,
        author_id: actor.userId,
        idempotency_key: input.idempotencyKey,
        request_digest: this.d.cipher.digest(asked, sealed.keyId),
        digest_key_id: sealed.keyId,
        body: sealed.data,
        body_key_id: sealed.keyId,
        // Replying can never reveal who wrote an anonymous post.
        anonymous: input.anonymous || (byPostAuthor && post.anonymous),
        by_post_author: byPostAuthor,
        create_time: this.d.now(),
      });
      if (!row) throw new ConnectError('the response could not be stored just now; try again', Code.Aborted);
      await postStore.addResponses(tx, post.id, 1);
      return { view: this.present(actor, row, post), crisisSuggested: verdict.crisisSuggested };
    });
    void this.d.limits.writes.count(actor.userId);
    // The post's response count is on the circle's pages.
    this.d.posts.changed(created.view.circleId);
    return created;
  }

  /** A post's responses, oldest first: PUBLISHED ones and the caller's own (not DELETED), none by someone with a block with them. */
  async list(actor: Actor, postId: string, pageSize: number, pageToken: string): Promise<{ views: ResponseView[]; next: string }> {
    const post = await this.d.posts.readable(actor, postId);
    const { items, next } = await keysetPage({
      codec: this.d.pages,
      scope: postId,
      pageSize,
      defaultSize: DEFAULT_PAGE,
      pageToken,
      read: (after, limit) => responseStore.page(this.d.db.db, postId, { viewerId: actor.userId, after, limit }),
      keep: (rows) => this.d.posts.notBlocked(actor, rows),
    });
    return { views: items.map((r) => this.present(actor, r, post)), next };
  }

  /** The author changes their PUBLISHED response's text, version checked, through the content checks. */
  async edit(actor: Actor, change: { id: string; version: bigint; body: string }): Promise<{ view: ResponseView; crisisSuggested: boolean }> {
    await this.d.limits.writes.check(actor.userId);
    const edited = await this.d.db.transaction(async (tx) => {
      const { row, post } = await this.ownResponse(tx, actor, change.id);
      if (row.state !== 'published') throw new ConnectError('only a published response can be edited', Code.FailedPrecondition);
      assertVersion('response', row.version, change.version);
      await this.assertMayWrite(actor, post);
      const verdict = await this.d.checks.check({ kind: 'response', authorId: actor.userId, circleId: post.circle_id, body: change.body });
      refuseBlocked(EditResponseRequestSchema, verdict);
      const sealed = this.d.cipher.seal(change.body, row.id);
      const updated = await responseStore.update(tx, row.id, { body: sealed.data, body_key_id: sealed.keyId, edit_time: this.d.now() });
      return { view: this.present(actor, updated, post), crisisSuggested: verdict.crisisSuggested };
    });
    void this.d.limits.writes.count(actor.userId);
    return edited;
  }

  /** The author deletes their response: a tombstone, the text erased at once; idempotent. */
  async delete(actor: Actor, id: string, version: bigint): Promise<ResponseView> {
    const view = await this.d.db.transaction(async (tx) => {
      const { row, post } = await this.ownResponse(tx, actor, id);
      if (row.state === 'deleted') return this.present(actor, row, post);
      if (version !== 0n) assertVersion('response', row.version, version);
      const deleted = await responseStore.update(tx, row.id, { state: 'deleted', body: null, body_key_id: null, delete_time: this.d.now() });
      if (row.state === 'published') await postStore.addResponses(tx, post.id, -1);
      return this.present(actor, deleted, post);
    });
    this.d.posts.changed(view.circleId);
    return view;
  }

  /** The caller's own response and its post, locked: NotFound if they cannot see it, PermissionDenied if it is someone else's. */
  private async ownResponse(tx: Db, actor: Actor, id: string): Promise<{ row: ResponseRow; post: PostRow }> {
    const found = await responseStore.find(tx, id);
    if (!found) throw responseNotFound();
    const post = await this.d.posts.readable(actor, found.post_id, tx).catch(() => {
      throw responseNotFound();
    });
    const row = await responseStore.find(tx, id, { forUpdate: true });
    if (!row || (row.author_id !== actor.userId && (row.state === 'hidden' || row.state === 'removed') && !actor.staff)) throw responseNotFound();
    if (row.author_id !== actor.userId) throw new ConnectError('only the author may change a response', Code.PermissionDenied);
    return { row, post };
  }

  /** Members of the post's circle who are not muted may write there. */
  private async assertMayWrite(actor: Actor, post: PostRow): Promise<void> {
    const access = await this.d.memberships.membership(post.circle_id, actor.userId);
    assertMayWrite(access, this.d.now(), "only members of the post's circle may respond");
  }

  private async replay(actor: Actor, earlier: ResponseRow, asked: string): Promise<ResponseView> {
    if (!this.d.cipher.digestMatches(asked, { digest: earlier.request_digest, keyId: earlier.digest_key_id })) {
      throw new ConnectError('idempotency_key was already used for a different response', Code.AlreadyExists);
    }
    const post = await postStore.find(this.d.db.db, earlier.post_id, this.d.now());
    if (!post) throw responseNotFound();
    return this.present(actor, earlier, post);
  }

  private present(actor: Actor, row: ResponseRow, post: PostRow): ResponseView {
    const authorShown = !row.anonymous || row.author_id === actor.userId || actor.staff;
    const byPostAuthor = row.by_post_author && (post.anonymous || !row.anonymous);
    const gone = row.state === 'deleted' || row.state === 'removed';
    if (gone || row.body === null || row.body_key_id === null) return { row, circleId: post.circle_id, body: '', html: '', authorShown, byPostAuthor };
    const body = this.d.cipher.open({ keyId: row.body_key_id, data: row.body }, row.id);
    const key = `${row.id}:${row.version}:${RENDERER_VERSION}`;
    let html = this.rendered.get(key);
    if (html === undefined) this.rendered.set(key, (html = renderBody(body)));
    return { row, circleId: post.circle_id, body, html, authorShown, byPostAuthor };
  }
}

function responseNotFound(): ConnectError {
  return new ConnectError('response not found', Code.NotFound);
}
