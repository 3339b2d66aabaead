// Posts, first slice: CreatePost (idempotent, sealed at rest, content checks, expiry), GetPost
// (who sees what: members, PUBLIC posts of public circles, blocks, anonymity, moderation
// states) and ListCirclePosts (newest first, keyset pages that do not shift, blocks), through
// the generated client against auth, user, circle and post in one host.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { MuteInfoSchema } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { ContentState, type Post, PostVisibility, ReactionKind } from '@hearth/contracts/gen/hearth/post/v1/resources_pb.js';
import { createRng, refusal } from '@hearth/testkit';
import { type Person, type TestSystem, startTestSystem } from '@hearth/testkit/system';
import type { PostApp } from '../src/app.js';
import { memoryBackend } from '@hearth/platform';
import type { ContentInput, ContentVerdict } from '../src/service/checks.js';
import { PostLimits } from '../src/service/limits.js';

const WRITES = 25;
const REACTIONS = 10;

let sys: TestSystem<'auth' | 'user' | 'circle' | 'post'>;
let offset = 0;
/** What the content checks of this test say, by body (default: accept). */
const verdicts = new Map<string, ContentVerdict>();
const checked: ContentInput[] = [];

beforeAll(async () => {
  sys = await startTestSystem({
    services: ['auth', 'user', 'circle', 'post'],
    name: 'post',
    overrides: {
      post: {
        now: () => new Date(Date.now() + offset),
        limits: new PostLimits(memoryBackend('post-test:'), { writesPerMinute: WRITES, reactionsPerMinute: REACTIONS }),
        checks: {
          async check(input: ContentInput) {
            checked.push(input);
            return verdicts.get(input.body) ?? { crisisSuggested: false };
          },
        },
      },
    },
  });
});
afterAll(async () => {
  await sys?.close();
});

interface Circle {
  readonly id: string;
  readonly owner: Person;
  readonly members: Person[];
}

const circleWith = (members: number, visibility = CircleVisibility.PUBLIC) => sys.seed.circleWith(members, { visibility });

const post = (c: Circle, who: Person, body: string, extra: { visibility?: PostVisibility; anonymous?: boolean; contentWarning?: string; key?: string; expireTime?: Date } = {}) =>
  sys.post
    .createPost(
      {
        idempotencyKey: extra.key ?? `p-${randomUUID()}`,
        circleId: c.id,
        body,
        contentWarning: extra.contentWarning ?? '',
        anonymous: extra.anonymous ?? false,
        visibility: extra.visibility ?? PostVisibility.MEMBERS,
        ...(extra.expireTime ? { expireTime: timestampFromDate(extra.expireTime) } : {}),
      },
      who.call,
    )
    .then((r) => r);

const app = () => sys.modules.post as PostApp;

describe('CreatePost', () => {
  it('publishes a post with version 1, its body sealed at rest and rendered to safe HTML', async () => {
    const c = await circleWith(1);
    const before = Date.now();
    const { post: p, crisisResourcesSuggested } = await post(c, c.members[0]!, 'Today was **hard**, but I went outside. <script>x</script>', { contentWarning: 'low mood' });
    assert.equal(crisisResourcesSuggested, false);
    assert.equal(p!.authorId, c.members[0]!.userId);
    assert.equal(p!.circleId, c.id);
    assert.equal(p!.state, ContentState.PUBLISHED);
    assert.equal(p!.version, 1n);
    assert.equal(p!.contentWarning, 'low mood');
    assert.equal(p!.bodyHtml, '<p>Today was <strong>hard</strong>, but I went outside. &lt;script&gt;x&lt;/script&gt;</p>\n');
    assert.ok(timestampDate(p!.createTime!).getTime() >= before - 1000);
    const row = await app().db.db.selectFrom('posts').selectAll().where('id', '=', p!.id).executeTakeFirstOrThrow();
    const raw = Buffer.concat([Buffer.from(row.body!), Buffer.from(row.content_warning!)]).toString('latin1');
    assert.ok(!raw.includes('outside') && !raw.includes('low mood'), 'no plaintext in the row');
    assert.equal(row.body_key_id, 'test1');
  });

  it('is idempotent by key: a retry returns the original (even after a mute), another post under the key is AlreadyExists', async () => {
    const c = await circleWith(1);
    const me = c.members[0]!;
    const key = `k-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => post(c, me, 'once', { key })));
    assert.equal(new Set(results.map((r) => r.post!.id)).size, 1, 'concurrent retries store one post');
    await sys.circle.muteMember({ circleId: c.id, userId: me.userId, duration: { seconds: 600n }, reason: '' }, c.owner.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await post(c, me, 'once', { key })).post!.id, results[0]!.post!.id);
    assert.equal((await refusal(post(c, me, 'twice', { key }))).code, Code.AlreadyExists);
    const n = await app().db.db.selectFrom('posts').select((eb) => eb.fn.countAll<string>().as('n')).where('author_id', '=', me.userId).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 1);
  });

  it('refuses muted members saying until when, non-members, and expiry times outside a minute to 90 days', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    await sys.circle.muteMember({ circleId: c.id, userId: a.userId, duration: { seconds: 600n }, reason: '' }, c.owner.call);
    await new Promise((r) => setTimeout(r, 50));
    const err = await refusal(post(c, a, 'let me'));
    assert.equal(err.code, Code.PermissionDenied);
    assert.ok(err.findDetails(MuteInfoSchema)[0]?.muteExpireTime);
    const stranger = await sys.seed.person({ name: 'stranger' });
    assert.equal((await refusal(post(c, stranger, 'hi'))).code, Code.PermissionDenied);
    for (const ms of [10_000, 91 * 86_400_000]) {
      const e = await refusal(post(c, b, 'soon gone', { expireTime: new Date(Date.now() + ms) }));
      assert.equal(e.code, Code.InvalidArgument, `expire in ${ms} ms`);
    }
    assert.equal((await refusal(post(c, b, 'in the past', { expireTime: new Date(Date.now() - 1000) }))).code, Code.InvalidArgument);
  });

  it('passes every write through the content checks: a block is InvalidArgument on its field and stores nothing; a crisis match is told', async () => {
    const c = await circleWith(1);
    const me = c.members[0]!;
    verdicts.set('blocked words', { blocked: { field: 'body', reason: 'this breaks the circle rules' }, crisisSuggested: false });
    verdicts.set('I want to disappear', { crisisSuggested: true });
    const err = await refusal(post(c, me, 'blocked words'));
    assert.equal(err.code, Code.InvalidArgument);
    assert.match(err.rawMessage, /body.*this breaks the circle rules/);
    const crisis = await post(c, me, 'I want to disappear');
    assert.equal(crisis.crisisResourcesSuggested, true);
    assert.equal(crisis.post!.state, ContentState.PUBLISHED, 'still published');
    const seen = checked.filter((x) => x.authorId === me.userId);
    assert.deepEqual(
      seen.map((x) => [x.kind, x.circleId, x.body]),
      [
        ['post', c.id, 'blocked words'],
        ['post', c.id, 'I want to disappear'],
      ],
    );
    const { posts } = await sys.post.listCirclePosts({ circleId: c.id }, me.call);
    assert.deepEqual(posts.map((p) => p.body), ['I want to disappear']);
  });
});

describe('EditPost and DeletePost', () => {
  it('lets the author change the fields set, version checked, with edit_time, through the content checks', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const p = (await post(c, a, 'first *draft*', { contentWarning: 'grief' })).post!;
    const edited = await sys.post.editPost({ id: p.id, version: 1n, body: 'second **take**' }, a.call);
    assert.equal(edited.post!.version, 2n);
    assert.equal(edited.post!.body, 'second **take**');
    assert.equal(edited.post!.bodyHtml, '<p>second <strong>take</strong></p>\n');
    assert.equal(edited.post!.contentWarning, 'grief', 'untouched');
    assert.ok(edited.post!.editTime);
    const cwGone = await sys.post.editPost({ id: p.id, version: 2n, contentWarning: '', visibility: PostVisibility.PUBLIC }, a.call);
    assert.deepEqual([cwGone.post!.contentWarning, cwGone.post!.visibility, cwGone.post!.body], ['', PostVisibility.PUBLIC, 'second **take**']);
    assert.equal((await refusal(sys.post.editPost({ id: p.id, version: 2n, body: 'stale' }, a.call))).code, Code.Aborted);
    assert.equal((await refusal(sys.post.editPost({ id: p.id, version: 3n, body: 'not mine' }, b.call))).code, Code.PermissionDenied);
    verdicts.set('edited into something blocked', { blocked: { field: 'body', reason: 'not here' }, crisisSuggested: false });
    assert.equal((await refusal(sys.post.editPost({ id: p.id, version: 3n, body: 'edited into something blocked' }, a.call))).code, Code.InvalidArgument);
    assert.equal((await sys.post.getPost({ id: p.id }, b.call)).post!.body, 'second **take**', 'nothing changed');
    const outsider = await sys.seed.person({ name: 'outsider' });
    assert.equal((await refusal(sys.post.editPost({ id: randomUUID(), version: 1n, body: 'x' }, outsider.call))).code, Code.NotFound);
  });

  it('deletes to a tombstone (text erased at once, idempotent, version 0 or current), which then cannot be edited', async () => {
    const c = await circleWith(1);
    const a = c.members[0]!;
    const p = (await post(c, a, 'soon gone', { contentWarning: 'cw' })).post!;
    assert.equal((await refusal(sys.post.deletePost({ id: p.id, version: 7n }, a.call))).code, Code.Aborted);
    assert.equal((await refusal(sys.post.deletePost({ id: p.id, version: 0n }, c.owner.call))).code, Code.PermissionDenied, 'not the author');
    const gone = (await sys.post.deletePost({ id: p.id, version: 1n }, a.call)).post!;
    assert.deepEqual([gone.state, gone.body, gone.bodyHtml, gone.contentWarning, gone.version], [ContentState.DELETED, '', '', '', 2n]);
    assert.ok(gone.deleteTime);
    const again = (await sys.post.deletePost({ id: p.id, version: 0n }, a.call)).post!;
    assert.equal(again.version, 2n, 'unchanged');
    const row = await app().db.db.selectFrom('posts').selectAll().where('id', '=', p.id).executeTakeFirstOrThrow();
    assert.deepEqual([row.body, row.content_warning, row.body_key_id], [null, null, null], 'the text is erased, not kept');
    const seen = (await sys.post.getPost({ id: p.id }, c.owner.call)).post!;
    assert.deepEqual([seen.state, seen.body, seen.circleId], [ContentState.DELETED, '', c.id], 'a tombstone to who could see it');
    assert.deepEqual((await sys.post.listCirclePosts({ circleId: c.id }, c.owner.call)).posts, [], 'not listed');
    assert.equal((await refusal(sys.post.editPost({ id: p.id, version: 2n, body: 'back?' }, a.call))).code, Code.FailedPrecondition);
  });
});

describe('GetPost', () => {
  it('shows a post to members, a PUBLIC one of a public circle to anyone signed in, and nothing to others (NotFound)', async () => {
    const pub = await circleWith(1);
    // Joining a private circle takes an invite: its owner writes there.
    const priv = await circleWith(0, CircleVisibility.PRIVATE);
    const outsider = await sys.seed.person({ name: 'outsider' });
    const [m1, m2] = [pub.members[0]!, priv.owner];
    const membersOnly = (await post(pub, m1, 'members only')).post!;
    const open = (await post(pub, m1, 'for anyone', { visibility: PostVisibility.PUBLIC })).post!;
    const privOpen = (await post(priv, m2, 'public in a private circle', { visibility: PostVisibility.PUBLIC })).post!;
    const seen = async (who: Person, p: Post) => sys.post.getPost({ id: p.id }, who.call).then(() => 'ok', async (e: unknown) => Code[(await refusal(Promise.reject(e))).code]);
    assert.deepEqual(
      [await seen(pub.owner, membersOnly), await seen(outsider, membersOnly), await seen(outsider, open), await seen(outsider, privOpen), await seen(m2, privOpen)],
      ['ok', 'NotFound', 'ok', 'NotFound', 'ok'],
    );
    assert.equal(await seen(outsider, { id: randomUUID() } as Post), 'NotFound');
  });

  it('hides the words of people with a block either way, and an anonymous author from everyone but themself', async () => {
    const c = await circleWith(3);
    const [a, b, x] = c.members as [Person, Person, Person];
    const anon = (await post(c, a, 'from nobody', { anonymous: true })).post!;
    assert.equal(anon.authorId, a.userId, 'the author sees themself');
    assert.equal((await sys.post.getPost({ id: anon.id }, b.call)).post!.authorId, '', 'others do not');
    assert.equal((await sys.post.getPost({ id: anon.id }, b.call)).post!.anonymous, true);
    await sys.user.blockUser({ userId: a.userId }, x.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await refusal(sys.post.getPost({ id: anon.id }, x.call))).code, Code.NotFound, 'the blocker');
    const byX = (await post(c, x, 'from x')).post!;
    assert.equal((await refusal(sys.post.getPost({ id: byX.id }, a.call))).code, Code.NotFound, 'the blocked');
  });

  it('lets a post vanish at its expiry time, for everyone and from every list, without waiting for a job', async () => {
    const c = await circleWith(1);
    const me = c.members[0]!;
    const p = (await post(c, me, 'just for today', { expireTime: new Date(Date.now() + 120_000) })).post!;
    assert.ok(p.expireTime);
    assert.equal((await sys.post.getPost({ id: p.id }, c.owner.call)).post!.body, 'just for today');
    offset = 121_000;
    try {
      assert.equal((await refusal(sys.post.getPost({ id: p.id }, me.call))).code, Code.NotFound, 'its author too');
      assert.deepEqual((await sys.post.listCirclePosts({ circleId: c.id }, me.call)).posts, []);
    } finally {
      offset = 0;
    }
  });
});

describe('ListCirclePosts', () => {
  it('pages newest first by keyset: every post once, in order, while new ones arrive, and tokens bound to their circle', async () => {
    const c = await circleWith(2);
    const people = [c.owner, ...c.members];
    const rnd = createRng(7);
    const made: Post[] = [];
    for (let i = 0; i < 23; i++) made.push((await post(c, rnd.pick(people), `post ${i}`)).post!);
    const pages: Post[][] = [];
    let token = '';
    do {
      const res = await sys.post.listCirclePosts({ circleId: c.id, pageSize: 5, pageToken: token }, c.owner.call);
      pages.push(res.posts);
      token = res.nextPageToken;
      // New posts while paging land above the first page, never shifting the later ones.
      if (pages.length === 2) await post(c, c.owner, 'late arrival');
    } while (token);
    assert.deepEqual(
      pages.flat().map((p) => p.body),
      made.map((p) => p.body).reverse(),
    );
    assert.ok(pages.slice(0, -1).every((p) => p.length === 5));
    const other = await circleWith(0);
    const first = await sys.post.listCirclePosts({ circleId: c.id, pageSize: 5 }, c.owner.call);
    const misuse = await refusal(sys.post.listCirclePosts({ circleId: other.id, pageToken: first.nextPageToken }, other.owner.call));
    assert.equal(misuse.code, Code.InvalidArgument, 'a token of another circle');
  });

  it('shows non-members of a public circle PUBLIC posts only, keeps pages full when blocks thin them, and hides private circles', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const outsider = await sys.seed.person({ name: 'outsider' });
    for (let i = 0; i < 6; i++) await post(c, a, `a ${i}`, { visibility: i % 2 ? PostVisibility.PUBLIC : PostVisibility.MEMBERS });
    for (let i = 0; i < 12; i++) await post(c, b, `b ${i}`);
    const asOutsider = await sys.post.listCirclePosts({ circleId: c.id, pageSize: 10 }, outsider.call);
    assert.deepEqual(asOutsider.posts.map((p) => p.body), ['a 5', 'a 3', 'a 1']);
    await sys.user.blockUser({ userId: b.userId }, a.call);
    await new Promise((r) => setTimeout(r, 50));
    const asA = await sys.post.listCirclePosts({ circleId: c.id, pageSize: 4 }, a.call);
    assert.deepEqual(asA.posts.map((p) => p.body), ['a 5', 'a 4', 'a 3', 'a 2'], 'a full page past twelve blocked posts');
    const rest = await sys.post.listCirclePosts({ circleId: c.id, pageSize: 4, pageToken: asA.nextPageToken }, a.call);
    assert.deepEqual(rest.posts.map((p) => p.body), ['a 1', 'a 0']);
    assert.equal(rest.nextPageToken, '');
    const priv = await circleWith(0, CircleVisibility.PRIVATE);
    assert.equal((await refusal(sys.post.listCirclePosts({ circleId: priv.id }, outsider.call))).code, Code.NotFound);
  });
});

describe('ListFeed', () => {
  it("merges the posts of the reader's circles newest first, page after page, and follows joins and leaves at once", async () => {
    const [c1, c2, c3] = [await circleWith(1), await circleWith(0), await circleWith(0)];
    const reader = c1.members[0]!;
    await sys.circle.joinCircle({ target: { case: 'circleId', value: c2.id } }, reader.call);
    const rnd = createRng(11);
    const made: Post[] = [];
    for (let i = 0; i < 25; i++) {
      const c = rnd.pick([c1, c2, c3]);
      const p = (await post(c, c.owner, `feed ${i} in ${c === c1 ? 'c1' : c === c2 ? 'c2' : 'c3'}`)).post!;
      made.push(p);
    }
    const want = made.filter((p) => p.circleId !== c3.id).reverse().map((p) => p.body);
    const got: string[] = [];
    let token = '';
    do {
      const res = await sys.post.listFeed({ pageSize: 4, pageToken: token }, reader.call);
      got.push(...res.posts.map((p) => p.body));
      token = res.nextPageToken;
    } while (token);
    assert.deepEqual(got, want, 'every post of c1 and c2 once, newest first; none of c3');
    await sys.circle.joinCircle({ target: { case: 'circleId', value: c3.id } }, reader.call);
    await sys.circle.leaveCircle({ circleId: c1.id }, reader.call);
    await new Promise((r) => setTimeout(r, 100));
    const after = (await sys.post.listFeed({ pageSize: 100 }, reader.call)).posts;
    assert.ok(after.some((p) => p.circleId === c3.id) && !after.some((p) => p.circleId === c1.id), 'the new circle in, the old one out');
    const stranger = await sys.seed.person({ name: 'stranger' });
    assert.deepEqual((await sys.post.listFeed({}, stranger.call)).posts, []);
    assert.equal((await refusal(sys.post.listFeed({ pageToken: token || (await sys.post.listFeed({ pageSize: 1 }, reader.call)).nextPageToken }, stranger.call))).code, Code.InvalidArgument, "a token is its reader's");
  });

  it('leaves out authors with a block either way, anonymous ones too, keeping pages full', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    // The blocked person's posts are the newest: a page must reach past all of them.
    for (let i = 0; i < 3; i++) await post(c, c.owner, `o ${i}`);
    for (let i = 0; i < 8; i++) await post(c, b, `b ${i}`, { anonymous: i % 2 === 0 });
    await sys.user.blockUser({ userId: a.userId }, b.call);
    await new Promise((r) => setTimeout(r, 50));
    const page = await sys.post.listFeed({ pageSize: 3 }, a.call);
    assert.deepEqual(page.posts.map((p) => p.body), ['o 2', 'o 1', 'o 0']);
    assert.equal((await sys.post.listFeed({ pageSize: 3 }, c.owner.call)).posts[0]!.body, 'b 7', 'others still see them');
  });
});

describe('Responses', () => {
  const respond = (p: Post, who: Person, body: string, extra: { anonymous?: boolean; key?: string } = {}) =>
    sys.post.createResponse({ idempotencyKey: extra.key ?? `r-${randomUUID()}`, postId: p.id, body, anonymous: extra.anonymous ?? false }, who.call);

  it('lets members respond to a published post they see, idempotently, counting PUBLISHED responses on the post', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const p = (await post(c, a, 'how do you sleep?', { visibility: PostVisibility.PUBLIC })).post!;
    const key = `r-${randomUUID()}`;
    const first = (await respond(p, b, 'Warm milk, *no* screens.', { key })).response!;
    assert.equal((await respond(p, b, 'Warm milk, *no* screens.', { key })).response!.id, first.id, 'a retry');
    assert.equal((await refusal(respond(p, b, 'something else', { key }))).code, Code.AlreadyExists);
    assert.deepEqual([first.postId, first.authorId, first.body, first.bodyHtml, first.version], [p.id, b.userId, 'Warm milk, *no* screens.', '<p>Warm milk, <em>no</em> screens.</p>\n', 1n]);
    assert.equal((await sys.post.getPost({ id: p.id }, a.call)).post!.responseCount, 1);
    const outsider = await sys.seed.person({ name: 'outsider' });
    assert.equal((await refusal(respond(p, outsider, 'hi'))).code, Code.PermissionDenied, 'sees the PUBLIC post, may not respond');
    const hidden = (await post(c, a, 'members only')).post!;
    assert.equal((await refusal(respond(hidden, outsider, 'hi'))).code, Code.NotFound);
    await sys.circle.muteMember({ circleId: c.id, userId: b.userId, duration: { seconds: 600n }, reason: '' }, c.owner.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await refusal(respond(p, b, 'muted'))).code, Code.PermissionDenied);
    await sys.post.deletePost({ id: hidden.id, version: 0n }, a.call);
    assert.equal((await refusal(respond(hidden, a, 'to a tombstone'))).code, Code.FailedPrecondition);
  });

  it("keeps an anonymous post's author anonymous in replies, says who the post's author is only when that reveals nothing", async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const anonPost = (await post(c, a, 'from nobody', { anonymous: true })).post!;
    const own = (await respond(anonPost, a, 'thank you all', { anonymous: false })).response!;
    assert.equal(own.anonymous, true, 'forced anonymous');
    const seenByB = (await sys.post.listResponses({ postId: anonPost.id }, b.call)).responses[0]!;
    assert.deepEqual([seenByB.authorId, seenByB.byPostAuthor, seenByB.anonymous], ['', true, true]);
    const known = (await post(c, a, 'from a')).post!;
    await respond(known, a, 'anonymously, on my own post', { anonymous: true });
    await respond(known, a, 'openly, on my own post');
    const list = (await sys.post.listResponses({ postId: known.id }, b.call)).responses;
    assert.deepEqual(
      list.map((r) => [r.authorId, r.byPostAuthor]),
      [
        ['', false],
        [a.userId, true],
      ],
      'an anonymous reply to a known post does not unmask its writer',
    );
  });

  it('lists oldest first by keyset, leaves out blocked people, edits version checked, deletes to a tombstone', async () => {
    const c = await circleWith(3);
    const [a, b, x] = c.members as [Person, Person, Person];
    const p = (await post(c, a, 'thread')).post!;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const who = i % 3 === 2 ? x : b;
      made.push((await respond(p, who, `reply ${i} by ${who === x ? 'x' : 'b'}`)).response!.body);
    }
    const pages: string[] = [];
    let token = '';
    do {
      const res = await sys.post.listResponses({ postId: p.id, pageSize: 3, pageToken: token }, a.call);
      pages.push(...res.responses.map((r) => r.body));
      token = res.nextPageToken;
    } while (token);
    assert.deepEqual(pages, made);
    await sys.user.blockUser({ userId: x.userId }, a.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      (await sys.post.listResponses({ postId: p.id, pageSize: 3 }, a.call)).responses.map((r) => r.body),
      made.filter((m) => m.endsWith('by b')).slice(0, 3),
    );
    const mine = (await sys.post.listResponses({ postId: p.id, pageSize: 1 }, b.call)).responses[0]!;
    const edited = (await sys.post.editResponse({ id: mine.id, version: 1n, body: 'reply 0, edited' }, b.call)).response!;
    assert.deepEqual([edited.version, edited.body, Boolean(edited.editTime)], [2n, 'reply 0, edited', true]);
    assert.equal((await refusal(sys.post.editResponse({ id: mine.id, version: 1n, body: 'stale' }, b.call))).code, Code.Aborted);
    assert.equal((await refusal(sys.post.editResponse({ id: mine.id, version: 2n, body: 'not mine' }, c.owner.call))).code, Code.PermissionDenied);
    const gone = (await sys.post.deleteResponse({ id: mine.id, version: 0n }, b.call)).response!;
    assert.deepEqual([gone.state, gone.body, gone.bodyHtml], [ContentState.DELETED, '', '']);
    assert.equal((await sys.post.deleteResponse({ id: mine.id, version: 0n }, b.call)).response!.version, gone.version, 'idempotent');
    assert.equal((await sys.post.getPost({ id: p.id }, a.call)).post!.responseCount, 6);
    assert.ok(!(await sys.post.listResponses({ postId: p.id, pageSize: 100 }, b.call)).responses.some((r) => r.id === mine.id), 'deleted: not listed');
    const row = await app().db.db.selectFrom('responses').selectAll().where('id', '=', mine.id).executeTakeFirstOrThrow();
    assert.deepEqual([row.body, row.body_key_id], [null, null], 'the text is erased');
  });
});

describe('Reactions', () => {
  it('counts kinds in ReactionKind order with the caller\'s own, once per person and kind, shown in lists too', async () => {
    const c = await circleWith(3);
    const [a, b, m] = c.members as [Person, Person, Person];
    const p = (await post(c, a, 'I got the job', { visibility: PostVisibility.PUBLIC })).post!;
    const add = (who: Person, kind: ReactionKind) => sys.post.addReaction({ postId: p.id, kind }, who.call).then((r) => r.reactions!);
    await add(b, ReactionKind.PROUD);
    await add(b, ReactionKind.PROUD);
    await add(b, ReactionKind.HEART);
    const mine = await add(c.owner, ReactionKind.PROUD);
    assert.deepEqual(
      mine.counts.map((x) => [ReactionKind[x.kind], x.count]),
      [
        ['HEART', 1],
        ['PROUD', 2],
      ],
    );
    assert.deepEqual(mine.mine, [ReactionKind.PROUD]);
    const outsider = await sys.seed.person({ name: 'outsider' });
    assert.equal((await add(outsider, ReactionKind.STRENGTH)).counts.length, 3, 'anyone who sees the post may react');
    const listed = (await sys.post.listCirclePosts({ circleId: c.id }, b.call)).posts.find((x) => x.id === p.id)!;
    assert.deepEqual(listed.reactions!.mine, [ReactionKind.HEART, ReactionKind.PROUD]);
    // Every list reads the same tally, each reader's own marked.
    const fromFeed = (await sys.post.listFeed({}, b.call)).posts.find((x) => x.id === p.id)!;
    assert.deepEqual(fromFeed.reactions, listed.reactions);
    const fromProfile = (await sys.post.listUserPosts({ userId: a.userId }, c.owner.call)).posts.find((x) => x.id === p.id)!;
    assert.deepEqual([fromProfile.reactions!.counts, fromProfile.reactions!.mine], [listed.reactions!.counts, [ReactionKind.PROUD]]);
    assert.deepEqual((await sys.post.getPost({ id: p.id }, a.call)).post!.reactions!.mine, [], 'the author added none');
    const after = (await sys.post.removeReaction({ postId: p.id, kind: ReactionKind.PROUD }, b.call)).reactions!;
    assert.deepEqual(
      after.counts.map((x) => [ReactionKind[x.kind], x.count]),
      [
        ['HEART', 1],
        ['STRENGTH', 1],
        ['PROUD', 1],
      ],
      'in ReactionKind order',
    );
    assert.deepEqual((await sys.post.removeReaction({ postId: p.id, kind: ReactionKind.PROUD }, b.call)).reactions!.mine, [ReactionKind.HEART], 'idempotent');
    await sys.circle.muteMember({ circleId: c.id, userId: m.userId, duration: { seconds: 600n }, reason: '' }, c.owner.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await refusal(add(m, ReactionKind.HUG))).code, Code.PermissionDenied, 'muted');
    const hidden = (await post(c, a, 'members only')).post!;
    assert.equal((await refusal(sys.post.addReaction({ postId: hidden.id, kind: ReactionKind.HUG }, outsider.call))).code, Code.NotFound);
    await sys.post.deletePost({ id: hidden.id, version: 0n }, a.call);
    assert.equal((await refusal(sys.post.addReaction({ postId: hidden.id, kind: ReactionKind.HUG }, b.call))).code, Code.FailedPrecondition);
  });
});

describe('ListUserPosts', () => {
  it("lists what the caller can see of someone's posts: not their anonymous ones, not other circles' members-only ones, nothing across a block", async () => {
    const c1 = await circleWith(2);
    const c2 = await circleWith(0);
    const [a, b] = c1.members as [Person, Person];
    await sys.circle.joinCircle({ target: { case: 'circleId', value: c2.id } }, a.call);
    const outsider = await sys.seed.person({ name: 'outsider' });
    await post(c1, a, 'c1 members');
    await post(c1, a, 'c1 public', { visibility: PostVisibility.PUBLIC });
    await post(c1, a, 'c1 anonymous', { anonymous: true });
    await post(c2, a, 'c2 members');
    await post(c2, a, 'c2 public', { visibility: PostVisibility.PUBLIC });
    const gone = (await post(c2, a, 'deleted')).post!;
    await sys.post.deletePost({ id: gone.id, version: 0n }, a.call);
    const bodies = async (viewer: Person, pageSize = 2) => {
      const out: string[] = [];
      let token = '';
      do {
        const res = await sys.post.listUserPosts({ userId: a.userId, pageSize, pageToken: token }, viewer.call);
        out.push(...res.posts.map((p) => p.body));
        token = res.nextPageToken;
      } while (token);
      return out;
    };
    assert.deepEqual(await bodies(a), ['c2 public', 'c2 members', 'c1 anonymous', 'c1 public', 'c1 members'], 'themself: all but deleted');
    assert.deepEqual(await bodies(b), ['c2 public', 'c1 public', 'c1 members'], 'a fellow member of c1 only');
    assert.deepEqual(await bodies(outsider), ['c2 public', 'c1 public'], 'public posts of public circles');
    await sys.user.blockUser({ userId: a.userId }, b.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await sys.post.listUserPosts({ userId: a.userId }, b.call)).posts, [], 'empty across a block, not NotFound');
    assert.deepEqual((await sys.post.listUserPosts({ userId: randomUUID() }, b.call)).posts, [], 'an unknown user: empty');
  });
});

describe('Write limits', () => {
  it('refuses writes past the budget with ResourceExhausted and retry-after, never deletes, retries or other people', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const first = (await post(c, a, 'post 0', { key: 'limit-key-0' })).post!;
    for (let i = 1; i < WRITES - 2; i++) await post(c, a, `post ${i}`);
    await sys.post.editPost({ id: first.id, version: 1n, body: 'post 0, edited' }, a.call);
    await sys.post.createResponse({ idempotencyKey: `r-${randomUUID()}`, postId: first.id, body: 'my own reply', anonymous: false }, a.call);
    const over = await refusal(post(c, a, 'one too many'));
    assert.equal(over.code, Code.ResourceExhausted);
    assert.ok(Number(over.metadata.get('retry-after')) >= 1);
    assert.equal((await refusal(sys.post.createResponse({ idempotencyKey: `r-${randomUUID()}`, postId: first.id, body: 'and a reply', anonymous: false }, a.call))).code, Code.ResourceExhausted);
    assert.equal((await post(c, a, 'post 0', { key: 'limit-key-0' })).post!.id, first.id, 'a retry of a stored post still answers');
    assert.equal((await sys.post.deletePost({ id: first.id, version: 0n }, a.call)).post!.state, ContentState.DELETED, 'deleting is never limited');
    assert.ok(await post(c, b, 'someone else'));
    const target = (await post(c, b, 'react to me', { visibility: PostVisibility.PUBLIC })).post!;
    const kinds = [ReactionKind.HEART, ReactionKind.HUG, ReactionKind.STRENGTH, ReactionKind.SAME_HERE, ReactionKind.HERE_FOR_YOU, ReactionKind.PROUD, ReactionKind.CANDLE];
    let added = 0;
    const reactors = [a, c.owner];
    for (const who of reactors) for (const kind of kinds) if (added++ < REACTIONS) await sys.post.addReaction({ postId: target.id, kind }, who.call);
    // a added 7, the owner 3: the owner has 7 left, a has 3 left of 10.
    for (const kind of kinds.slice(0, 3)) await sys.post.removeReaction({ postId: target.id, kind }, a.call);
    for (const kind of kinds.slice(0, 3)) await sys.post.addReaction({ postId: target.id, kind }, a.call);
    assert.equal((await refusal(sys.post.addReaction({ postId: target.id, kind: ReactionKind.HEART }, a.call))).code, Code.ResourceExhausted, 'the eleventh is refused, even one already removed');
  });
});

describe('Purge', () => {
  it('purges deleted posts after the retention and expired posts, with their responses and reactions, and keeps the rest', async () => {
    const c = await circleWith(1);
    const a = c.members[0]!;
    const kept = (await post(c, a, 'stays')).post!;
    const deleted = (await post(c, a, 'deleted')).post!;
    await sys.post.createResponse({ idempotencyKey: `r-${randomUUID()}`, postId: deleted.id, body: 'a reply', anonymous: false }, c.owner.call);
    await sys.post.addReaction({ postId: deleted.id, kind: ReactionKind.HUG }, c.owner.call);
    await sys.post.deletePost({ id: deleted.id, version: 0n }, a.call);
    const expiring = (await post(c, a, 'brief', { expireTime: new Date(Date.now() + 120_000) })).post!;
    const rows = (ids: string[]) => app().db.db.selectFrom('posts').select('id').where('id', 'in', ids).execute().then((r) => r.map((x) => x.id).sort());
    await app().purge();
    assert.deepEqual(await rows([kept.id, deleted.id, expiring.id]), [kept.id, deleted.id, expiring.id].sort(), 'nothing due yet');
    offset = 121_000;
    try {
      await app().purge();
      assert.deepEqual(await rows([kept.id, deleted.id, expiring.id]), [kept.id, deleted.id].sort(), 'the expired post went');
      offset = 31 * 86_400_000;
      await app().purge();
      assert.deepEqual(await rows([kept.id, deleted.id]), [kept.id], 'the deleted post went after 30 days');
      const orphans = await app().db.db.selectFrom('responses').select('id').where('post_id', '=', deleted.id).execute();
      const reactions = await app().db.db.selectFrom('post_reactions').select('kind').where('post_id', '=', deleted.id).execute();
      assert.deepEqual([orphans, reactions], [[], []], 'with its responses and reactions');
    } finally {
      offset = 0;
    }
  });
});

describe('The first-page cache', () => {
  it('serves a circle’s first page from Redis until a write in the circle, which readers then see at once', async () => {
    const c = await circleWith(1);
    const a = c.members[0]!;
    const p = (await post(c, a, 'cached', { contentWarning: 'cw' })).post!;
    const first = await sys.post.listCirclePosts({ circleId: c.id }, a.call);
    assert.equal(first.posts[0]!.responseCount, 0);
    // Behind the service's back: the cached page does not see it...
    await app().db.db.updateTable('posts').set({ response_count: 99 }).where('id', '=', p.id).execute();
    const cached = (await sys.post.listCirclePosts({ circleId: c.id }, a.call)).posts[0]!;
    assert.deepEqual([cached.responseCount, cached.body, cached.contentWarning, cached.bodyHtml], [0, 'cached', 'cw', '<p>cached</p>\n'], 'served from the cache, sealed rows opened');
    assert.equal((await sys.post.getPost({ id: p.id }, a.call)).post!.responseCount, 99, 'single reads are not cached');
    // ...until any write in the circle moves it on.
    await post(c, c.owner, 'a write');
    const after = await sys.post.listCirclePosts({ circleId: c.id }, a.call);
    assert.deepEqual(after.posts.map((x) => [x.body, x.responseCount]), [['a write', 0], ['cached', 99]]);
    // Other readers' variants (non-members: public posts only) are kept apart.
    const outsider = await sys.seed.person({ name: 'outsider' });
    assert.deepEqual((await sys.post.listCirclePosts({ circleId: c.id }, outsider.call)).posts, []);
  });
});
