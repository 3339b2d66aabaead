// Chat, first slice: SendMessage (seq, encryption at rest, idempotency, mentions, threads,
// mutes, archive) and ListMessages in its three modes, through the generated client.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { durationFromMs, timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { ChatService, MuteInfoSchema } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import type { Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { CircleVisibility, MessageKind } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { createRng } from '@hearth/testkit';
import { sql } from 'kysely';
import { chatMessageTopic, type ChatMessageEvent } from '@hearth/authz';
import { type Cast, type Person, type TestSystem, cast, refusal, startSystem } from './helpers.js';

let sys: TestSystem;
const published: ChatMessageEvent[] = [];

beforeAll(async () => {
  sys = await startSystem();
  sys.host.runtime.bus.subscribe(chatMessageTopic, (e) => published.push(e));
});
afterAll(async () => {
  await sys?.close();
});

const send = (c: Cast, who: Person, body: string, extra: { clientMessageId?: string; threadRootId?: string; mentionUserIds?: string[] } = {}) =>
  sys.chat.sendMessage({ circleId: c.circleId, clientMessageId: extra.clientMessageId ?? randomUUID(), body, ...extra }, who.call).then((r) => r.message!);

const seqs = (messages: readonly Message[]) => messages.map((m) => Number(m.seq));
const texts = (messages: readonly Message[]) => messages.filter((m) => m.kind === MessageKind.TEXT);
/** The circle's newest seq (joins put messages of the system in the sequence too). */
const head = async (c: Cast) => (await sys.chat.listMessages({ circleId: c.circleId, pageSize: 1 }, c.owner.call)).lastSeq;

describe('SendMessage', () => {
  it('stores a message with the next seq and the server time, the body sealed at rest, and says so after commit', async () => {
    const c = await cast(sys, 0, 1);
    const base = await head(c);
    const before = Date.now();
    const m = await send(c, c.members[0]!, 'Is anyone up? I could use some company.');
    assert.equal(m.seq, base + 1n);
    assert.equal(m.senderId, c.members[0]!.userId);
    assert.equal(m.body, 'Is anyone up? I could use some company.');
    assert.equal(m.version, 1n);
    assert.ok(timestampDate(m.createTime!).getTime() >= before - 1000);
    const second = await send(c, c.owner, 'I am here.');
    assert.equal(second.seq, base + 2n);

    const row = await sys.db.db.selectFrom('messages').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow();
    assert.equal(row.body_key_id, 'test1');
    assert.ok(row.body && !Buffer.from(row.body).toString('latin1').includes('company'), 'no plaintext in the row');
    assert.ok(published.some((e) => e.messageId === m.id && e.seq === Number(m.seq) && e.circleId === c.circleId && e.change === 'created'));
  });

  it('gives every message of a circle its own seq with no holes, however many send at once', async () => {
    const c = await cast(sys, 1, 3);
    const people = [c.owner, ...c.hosts, ...c.members];
    const base = Number(await head(c));
    const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => send(c, people[i % people.length]!, `message ${i}`)));
    assert.deepEqual(seqs(sent).sort((a, b) => a - b), range(base + 1, base + 40));
    const { messages, lastSeq } = await sys.chat.listMessages({ circleId: c.circleId, position: { case: 'afterSeq', value: 0n }, pageSize: 100 }, c.owner.call);
    assert.equal(lastSeq, BigInt(base + 40));
    assert.deepEqual(seqs(messages), range(1, base + 40), 'joins and messages in one sequence');
    for (const m of texts(messages)) assert.equal(m.body, sent.find((s) => s.id === m.id)?.body);
  });

  it('is idempotent by client_message_id for as long as the message is kept, and refuses the id for another message', async () => {
    const c = await cast(sys, 0, 1);
    const me = c.members[0]!;
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 6 }, () => send(c, me, 'just once', { clientMessageId: key })));
    assert.equal(new Set(results.map((m) => m.id)).size, 1, 'concurrent retries store one message');
    assert.equal(results[0]!.clientMessageId, key);
    const later = await send(c, me, 'just once', { clientMessageId: key });
    assert.equal(later.id, results[0]!.id);
    const count = await sys.db.db.selectFrom('messages').select((eb) => eb.fn.countAll<string>().as('n')).where('circle_id', '=', c.circleId).where('kind', '=', 'text').executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 1);

    const other = await refusal(send(c, me, 'something else', { clientMessageId: key }));
    assert.equal(other.code, Code.AlreadyExists);
    const elsewhere = await cast(sys, 0, 0);
    await sys.circle.joinCircle({ target: { case: 'circleId', value: elsewhere.circleId } }, me.call);
    assert.equal((await refusal(send(elsewhere, me, 'just once', { clientMessageId: key }))).code, Code.AlreadyExists, 'same id, another circle');
    // Another person's ids are theirs alone.
    assert.notEqual((await send(c, c.owner, 'just once', { clientMessageId: key })).id, results[0]!.id);
  });

  it('answers a retry with the original whatever changed since (muted, circle archived), and stores nothing new', async () => {
    const c = await cast(sys, 1, 2);
    const [m1, m2] = c.members as [Person, Person];
    const [a, b, root] = [await send(c, m1, 'before the mute'), await send(c, m2, 'before the removal'), await send(c, c.owner, 'root')];
    const reply = await send(c, m1, 'a reply', { threadRootId: root.id });
    await sys.circle.muteMember({ circleId: c.circleId, userId: m1.userId, duration: durationFromMs(600_000), reason: '' }, c.hosts[0]!.call);
    await sys.circle.removeMember({ circleId: c.circleId, userId: m2.userId, ban: false, reason: '' }, c.owner.call);
    const retry = (m: Message, who: Person, extra: { threadRootId?: string } = {}) => send(c, who, m.body, { clientMessageId: m.clientMessageId, ...extra });
    assert.equal((await retry(a, m1)).id, a.id, 'muted since');
    assert.equal((await retry(reply, m1, { threadRootId: root.id })).id, reply.id, 'a reply, muted since');
    // Removed since: the gate refuses before the service looks (they may no longer read the circle).
    assert.equal((await refusal(retry(b, m2))).code, Code.PermissionDenied, 'removed since');
    assert.equal((await refusal(send(c, m1, 'new while muted'))).code, Code.PermissionDenied);
    assert.equal((await refusal(send(c, m1, 'new reply while muted', { threadRootId: root.id }))).code, Code.PermissionDenied);
    const { circle } = await sys.circle.getCircle({ circleId: c.circleId }, c.owner.call);
    await sys.circle.archiveCircle({ circleId: c.circleId, version: circle!.version }, c.owner.call);
    const before = await head(c);
    assert.equal((await retry(root, c.owner)).id, root.id, 'archived since');
    assert.equal((await refusal(retry({ ...root, body: 'changed' }, c.owner))).code, Code.AlreadyExists, 'the key, for another body');
    assert.equal((await refusal(send(c, m2, 'new after removal'))).code, Code.PermissionDenied, 'removed: not a member, before archived');
    assert.equal(await head(c), before, 'no seq taken');
  });

  it('never stores a message after the removal or mute that raced it (generated races)', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const rnd = createRng(seed);
      const c = await cast(sys, 1, 1);
      const m = c.members[0]!;
      const mute = seed % 2 === 0;
      const delay = rnd.int(15);
      const sends = Array.from({ length: 12 }, (_, i) => send(c, m, `race ${i}`).then((x) => x, (e: unknown) => e));
      await new Promise((r) => setTimeout(r, delay));
      if (mute) await sys.circle.muteMember({ circleId: c.circleId, userId: m.userId, duration: durationFromMs(600_000), reason: '' }, c.hosts[0]!.call);
      else await sys.circle.removeMember({ circleId: c.circleId, userId: m.userId, ban: false, reason: '' }, c.owner.call);
      const cut = await head(c);
      const results = await Promise.all(sends);
      const stored = results.filter((r): r is Message => !(r instanceof Error));
      for (const r of results) if (r instanceof Error) assert.equal(ConnectError.from(r).code, Code.PermissionDenied, `seed ${seed}`);
      const { messages } = await sys.chat.listMessages({ circleId: c.circleId, pageSize: 100 }, c.owner.call);
      const after = messages.filter((x) => x.seq > cut && x.senderId === m.userId);
      assert.deepEqual(after, [], `seed ${seed}: nothing from them after the ${mute ? 'mute' : 'removal'}`);
      assert.ok(stored.every((x) => x.seq <= cut), `seed ${seed}`);
      if (!mute) {
        const left = messages.find((x) => x.kind === MessageKind.MEMBER_LEFT && x.subjectUserId === m.userId);
        assert.ok(left && stored.every((x) => x.seq < left.seq), `seed ${seed}: every stored message comes before "left"`);
      }
    }
  });

  it('keeps only mentions of members without a block with the sender, without saying which were dropped', async () => {
    const c = await cast(sys, 0, 3);
    const [a, b, blocked] = c.members as [Person, Person, Person];
    const outsider = await sys.person('outsider');
    await sys.user.blockUser({ userId: a.userId }, blocked.call);
    const m = await send(c, a, 'thanks @b and @owner', {
      mentionUserIds: [b.userId, c.owner.userId, blocked.userId, outsider.userId, a.userId, randomUUID()],
    });
    assert.deepEqual([...m.mentionUserIds].sort(), [b.userId, c.owner.userId].sort());
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, b.call);
    assert.deepEqual([...texts(messages)[0]!.mentionUserIds].sort(), [b.userId, c.owner.userId].sort());
  });

  it('replies in a thread one level deep, counting replies on the root', async () => {
    const c = await cast(sys, 0, 1);
    const root = await send(c, c.owner, 'How was everyone’s week?');
    const reply = await send(c, c.members[0]!, 'Long, but better now.', { threadRootId: root.id });
    assert.equal(reply.threadRootId, root.id);
    assert.equal(reply.seq, root.seq + 1n, 'replies take the circle seq too');
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, c.owner.call);
    const stored = messages.find((m) => m.id === root.id)!;
    assert.equal(stored.replyCount, 1);
    assert.equal(stored.version, 2n);
    assert.ok(stored.lastReplyTime);

    assert.equal((await refusal(send(c, c.owner, 'nested', { threadRootId: reply.id }))).code, Code.FailedPrecondition);
    assert.equal((await refusal(send(c, c.owner, 'nowhere', { threadRootId: randomUUID() }))).code, Code.NotFound);
    const other = await cast(sys, 0, 0);
    const foreign = await send(other, other.owner, 'elsewhere');
    assert.equal((await refusal(send(c, c.owner, 'cross', { threadRootId: foreign.id }))).code, Code.NotFound, 'a root of another circle');
  });

  it('refuses a muted member with PermissionDenied saying until when, and lets them send once the mute ends', async () => {
    const c = await cast(sys, 1, 1);
    const m = c.members[0]!;
    await sys.circle.muteMember({ circleId: c.circleId, userId: m.userId, duration: durationFromMs(10 * 60_000), reason: 'cool off' }, c.hosts[0]!.call);
    const err = await refusal(send(c, m, 'let me speak'));
    assert.equal(err.code, Code.PermissionDenied);
    const [info] = err.findDetails(MuteInfoSchema);
    assert.ok(info?.muteExpireTime, 'a MuteInfo detail');
    const until = timestampDate(info.muteExpireTime);
    assert.ok(err.rawMessage.includes(until.toISOString()), err.rawMessage);
    sys.advance(11 * 60_000);
    try {
      assert.equal((await send(c, m, 'thank you')).body, 'thank you');
    } finally {
      sys.advance(-11 * 60_000);
    }
  });

  it('refuses non-members, removed members at once, and any message to an archived circle', async () => {
    const c = await cast(sys, 0, 1);
    const stranger = await sys.person('stranger');
    assert.equal((await refusal(send(c, stranger, 'hi'))).code, Code.PermissionDenied);
    const priv = await cast(sys, 0, 0, CircleVisibility.PRIVATE);
    assert.equal((await refusal(send(priv, stranger, 'hi'))).code, Code.NotFound, 'a private circle hides');
    await sys.circle.removeMember({ circleId: c.circleId, userId: c.members[0]!.userId, ban: false, reason: '' }, c.owner.call);
    assert.equal((await refusal(send(c, c.members[0]!, 'still here?'))).code, Code.PermissionDenied);
    await sys.circle.archiveCircle({ circleId: c.circleId, version: 1n }, c.owner.call).catch(async () => {
      const { circle } = await sys.circle.getCircle({ circleId: c.circleId }, c.owner.call);
      await sys.circle.archiveCircle({ circleId: c.circleId, version: circle!.version }, c.owner.call);
    });
    const before = await head(c);
    assert.equal((await refusal(send(c, c.owner, 'anyone?'))).code, Code.FailedPrecondition);
    assert.equal(await head(c), before, 'a refused message takes no seq');
  });
});

describe('ListMessages', () => {
  it('reads the newest, after a seq and before a seq, ascending and without holes, over generated positions', async () => {
    const c = await cast(sys, 0, 1);
    const base = Number(await head(c));
    for (let i = 1; i <= 37; i++) await send(c, i % 2 ? c.owner : c.members[0]!, `m${base + i}`);
    const total = base + 37;
    const list = (position: { case: 'afterSeq' | 'beforeSeq'; value: bigint } | undefined, pageSize: number) =>
      sys.chat.listMessages({ circleId: c.circleId, ...(position ? { position } : {}), pageSize }, c.members[0]!.call);
    const rng = createRng(0xc4a7);
    for (let i = 0; i < 40; i++) {
      const size = rng.int(12);
      const want = size === 0 ? 50 : size;
      const mode = rng.pick(['newest', 'after', 'before'] as const);
      const n = BigInt(rng.int(total + 5));
      let expected: number[];
      let page;
      if (mode === 'newest') {
        page = await list(undefined, size);
        expected = range(Math.max(1, total - want + 1), total);
      } else if (mode === 'after') {
        page = await list({ case: 'afterSeq', value: n }, size);
        expected = range(Number(n) + 1, Math.min(total, Number(n) + want));
      } else {
        const before = n + 1n;
        page = await list({ case: 'beforeSeq', value: before }, size);
        const to = Math.min(Number(before) - 1, total);
        expected = range(Math.max(1, to - want + 1), to);
      }
      const label = `${mode} ${n} size ${size}`;
      assert.deepEqual(seqs(page.messages), expected, label);
      assert.equal(page.lastSeq, BigInt(total), label);
      for (const m of texts(page.messages)) assert.equal(m.body, `m${m.seq}`, label);
      const more = mode === 'after' ? (expected.at(-1) ?? Number(n)) < total : (expected[0] ?? 1) > 1;
      assert.equal(page.hasMore, expected.length > 0 && more, label);
    }
  });

  it('walks the whole history back from the newest page, and forward from 0, each message once', async () => {
    const c = await cast(sys, 0, 0);
    for (let i = 1; i <= 23; i++) await send(c, c.owner, `m${i}`);
    const back: number[] = [];
    let page = await sys.chat.listMessages({ circleId: c.circleId, pageSize: 5 }, c.owner.call);
    back.unshift(...seqs(page.messages));
    while (page.hasMore) {
      page = await sys.chat.listMessages({ circleId: c.circleId, position: { case: 'beforeSeq', value: page.messages[0]!.seq }, pageSize: 5 }, c.owner.call);
      back.unshift(...seqs(page.messages));
    }
    assert.deepEqual(back, range(1, 23));
    const forward: number[] = [];
    let after = 0n;
    for (;;) {
      const p = await sys.chat.listMessages({ circleId: c.circleId, position: { case: 'afterSeq', value: after }, pageSize: 7 }, c.owner.call);
      forward.push(...seqs(p.messages));
      if (!p.hasMore) break;
      after = p.messages.at(-1)!.seq;
    }
    assert.deepEqual(forward, range(1, 23));
  });

  it('is for members and platform moderators only', async () => {
    const c = await cast(sys, 0, 0);
    await send(c, c.owner, 'members only');
    const stranger = await sys.person('stranger');
    assert.equal((await refusal(sys.chat.listMessages({ circleId: c.circleId }, stranger.call))).code, Code.PermissionDenied);
    const mod = await sys.moderator();
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, mod.call);
    assert.equal(messages[0]?.body, 'members only');
    await sys.chat.listPins({ circleId: c.circleId }, mod.call);
    await sys.chat.listMessages({ circleId: c.circleId }, c.owner.call);
    const audit = await sys.db.db.selectFrom('audit_events').select(['actor', 'details']).where('scope', '=', c.circleId).where('action', '=', 'messages.read').execute();
    assert.deepEqual(audit.map((e) => [e.actor, (e.details as { what: string }).what]), [[mod.userId, 'list'], [mod.userId, 'pins']], "a moderator's reads are audited, a member's are not");
  });
});

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

describe('EditMessage and DeleteMessage', () => {
  it('lets the sender edit with the current version: same seq, edit time, new mentions, sealed again', async () => {
    const c = await cast(sys, 0, 2);
    const [a, b] = c.members as [Person, Person];
    const m = await send(c, a, 'frist', { mentionUserIds: [b.userId] });
    const { message: edited } = await sys.chat.editMessage({ circleId: c.circleId, messageId: m.id, version: 1n, body: 'first', mentionUserIds: [c.owner.userId] }, a.call);
    assert.equal(edited?.seq, m.seq);
    assert.equal(edited?.body, 'first');
    assert.equal(edited?.version, 2n);
    assert.ok(edited?.editTime);
    assert.deepEqual(edited?.mentionUserIds, [c.owner.userId]);
    const stale = await refusal(sys.chat.editMessage({ circleId: c.circleId, messageId: m.id, version: 1n, body: 'again', mentionUserIds: [] }, a.call));
    assert.equal(stale.code, Code.Aborted);
    const notMine = await refusal(sys.chat.editMessage({ circleId: c.circleId, messageId: m.id, version: 2n, body: 'mine now', mentionUserIds: [] }, c.owner.call));
    assert.equal(notMine.code, Code.PermissionDenied);
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, b.call);
    assert.equal(texts(messages)[0]?.body, 'first');
    // A retry of the original send still finds the message (the digest is of the first request).
    assert.equal((await send(c, a, 'frist', { clientMessageId: m.clientMessageId, mentionUserIds: [b.userId] })).id, m.id);
    assert.ok(published.some((e) => e.messageId === m.id && e.change === 'edited'));
  });

  it('deletes to a tombstone (same id and seq, no body, no mentions), by the sender, a host or a moderator, once', async () => {
    const c = await cast(sys, 1, 2);
    const [a, b] = c.members as [Person, Person];
    const own = await send(c, a, 'mine', { mentionUserIds: [b.userId] });
    const hosts = await send(c, b, 'harmful words');
    const mods = await send(c, b, 'more harmful words');
    assert.equal((await refusal(sys.chat.deleteMessage({ circleId: c.circleId, messageId: hosts.id, reason: '' }, a.call))).code, Code.PermissionDenied);

    const { message: tomb } = await sys.chat.deleteMessage({ circleId: c.circleId, messageId: own.id, reason: '' }, a.call);
    assert.equal(tomb?.seq, own.seq);
    assert.equal(tomb?.body, '');
    assert.deepEqual(tomb?.mentionUserIds, []);
    assert.ok(tomb?.deleteTime);
    const again = await sys.chat.deleteMessage({ circleId: c.circleId, messageId: own.id, reason: '' }, a.call);
    assert.equal(again.message?.version, tomb?.version, 'deleting a deleted message changes nothing');
    await sys.chat.deleteMessage({ circleId: c.circleId, messageId: hosts.id, reason: 'harassment' }, c.hosts[0]!.call);
    const mod = await sys.moderator();
    await sys.chat.deleteMessage({ circleId: c.circleId, messageId: mods.id, reason: 'rule 2' }, mod.call);

    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, b.call);
    assert.deepEqual(seqs(texts(messages)), [own.seq, hosts.seq, mods.seq].map(Number), 'tombstones keep their seq');
    assert.ok(texts(messages).every((m) => m.body === '' && m.deleteTime));
    const rows = await sys.db.db.selectFrom('messages').select(['body', 'body_key_id']).where('circle_id', '=', c.circleId).where('kind', '=', 'text').execute();
    assert.ok(rows.every((r) => r.body === null && r.body_key_id === null), 'the sealed body is gone from the row');
    assert.equal((await refusal(sys.chat.editMessage({ circleId: c.circleId, messageId: own.id, version: tomb!.version, body: 'back', mentionUserIds: [] }, a.call))).code, Code.FailedPrecondition);
    const audit = await sys.db.db.selectFrom('audit_events').select(['actor', 'reason', 'target']).where('scope', '=', c.circleId).where('action', '=', 'message.delete').execute();
    assert.deepEqual(audit.map((e) => [e.actor, e.reason, e.target]).sort(), [
      [a.userId, '', own.id],
      [c.hosts[0]!.userId, 'harassment', hosts.id],
      [mod.userId, 'rule 2', mods.id],
    ].sort());
  });
});

describe('GetThread', () => {
  it('returns the root and its replies in seq order, paged with tokens bound to the thread', async () => {
    const c = await cast(sys, 0, 1);
    const root = await send(c, c.owner, 'Check-in thread');
    const other = await send(c, c.owner, 'Another thread');
    for (let i = 1; i <= 7; i++) {
      await send(c, i % 2 ? c.members[0]! : c.owner, `reply ${i}`, { threadRootId: root.id });
      await send(c, c.owner, `noise ${i}`);
    }
    const got: string[] = [];
    let token = '';
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await sys.chat.getThread({ circleId: c.circleId, rootMessageId: root.id, pageSize: 3, pageToken: token }, c.members[0]!.call);
      assert.equal(page.root?.id, root.id);
      assert.equal(page.root?.replyCount, 7);
      got.push(...page.replies.map((m) => m.body));
      token = page.nextPageToken;
      if (!token) break;
    }
    assert.deepEqual(got, Array.from({ length: 7 }, (_, i) => `reply ${i + 1}`));
    const first = await sys.chat.getThread({ circleId: c.circleId, rootMessageId: root.id, pageSize: 3 }, c.owner.call);
    const misuse = await refusal(sys.chat.getThread({ circleId: c.circleId, rootMessageId: other.id, pageToken: first.nextPageToken }, c.owner.call));
    assert.equal(misuse.code, Code.InvalidArgument, "another thread's token");
    const reply = first.replies[0]!;
    assert.equal((await refusal(sys.chat.getThread({ circleId: c.circleId, rootMessageId: reply.id }, c.owner.call))).code, Code.FailedPrecondition);
    assert.equal((await refusal(sys.chat.getThread({ circleId: c.circleId, rootMessageId: randomUUID() }, c.owner.call))).code, Code.NotFound);
  });
});

describe('MarkRead and GetUnreadCounts', () => {
  it('moves the read position forward only, clamps past the newest, and counts what others sent and did not delete', async () => {
    const c = await cast(sys, 0, 1);
    const me = c.members[0]!;
    const base = await head(c);
    for (let i = 1; i <= 5; i++) await send(c, c.owner, `o${i}`);
    const mine = await send(c, me, 'mine');
    const gone = await send(c, c.owner, 'gone');
    await sys.chat.deleteMessage({ circleId: c.circleId, messageId: gone.id, reason: '' }, c.owner.call);
    const count = async () => (await sys.chat.getUnreadCounts({ circleIds: [c.circleId] }, me.call)).counts[0]!;
    assert.deepEqual([(await count()).lastReadSeq, (await count()).unreadCount, (await count()).lastSeq], [0n, 5, base + 7n], 'joins are not unread');
    const r1 = await sys.chat.markRead({ circleId: c.circleId, seq: base + 3n }, me.call);
    assert.deepEqual([r1.unread?.lastReadSeq, r1.unread?.unreadCount], [base + 3n, 2]);
    const back = await sys.chat.markRead({ circleId: c.circleId, seq: 1n }, me.call);
    assert.equal(back.unread?.lastReadSeq, base + 3n, 'never goes down');
    const far = await sys.chat.markRead({ circleId: c.circleId, seq: 1000n }, me.call);
    assert.deepEqual([far.unread?.lastReadSeq, far.unread?.unreadCount], [base + 7n, 0]);
    assert.equal(mine.seq, base + 6n);
  });

  it('answers for many circles in one call, pages through all of mine, and stops counting at 1000', async () => {
    const me = await sys.person('reader');
    const circles: Cast[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await cast(sys, 0, 0);
      await sys.circle.joinCircle({ target: { case: 'circleId', value: c.circleId } }, me.call);
      for (let j = 0; j < i; j++) await send(c, c.owner, `c${i} m${j}`);
      circles.push(c);
    }
    const stranger = await cast(sys, 0, 0);
    const asked = await sys.chat.getUnreadCounts({ circleIds: [...circles.map((c) => c.circleId), stranger.circleId] }, me.call);
    assert.deepEqual(asked.counts.map((u) => [u.circleId, u.unreadCount]), circles.map((c, i) => [c.circleId, i]), 'in the order asked; not-mine left out');
    assert.equal(asked.nextPageToken, '');
    const seen = new Map<string, number>();
    let token = '';
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await sys.chat.getUnreadCounts({ pageSize: 2, pageToken: token }, me.call);
      for (const u of page.counts) seen.set(u.circleId, u.unreadCount);
      token = page.nextPageToken;
      if (!token) break;
    }
    assert.deepEqual(new Map(circles.map((c, i) => [c.circleId, i])), seen);

    // A long history: 1,500 messages written straight to the table.
    const big = circles[0]!;
    await sql`insert into messages (id, circle_id, seq, kind, sender_id, client_message_id, create_time)
      select gen_random_uuid(), ${big.circleId}, s, 'text', ${big.owner.userId}, 'bulk-' || s, now() from generate_series(3, 1502) s`.execute(sys.db.db);
    await sql`update circles set last_seq = 1502 where id = ${big.circleId}`.execute(sys.db.db);
    const [capped] = (await sys.chat.getUnreadCounts({ circleIds: [big.circleId] }, me.call)).counts;
    assert.deepEqual([capped?.unreadCount, capped?.lastSeq], [1000, 1502n]);
  });
});

describe('Reactions', () => {
  it('takes exactly one emoji, any Unicode emoji sequence, and refuses everything else with a field error', async () => {
    const c = await cast(sys, 0, 1);
    const m = await send(c, c.owner, 'react to me');
    const react = (emoji: string) => sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji }, c.members[0]!.call);
    const good = ['👍', '❤️', '👍🏽', '👩‍👩‍👧', '🏳️‍🌈', '🇳🇿', '🫶🏿', '1️⃣', '🧑‍🦯'];
    const rng = createRng(0xe0f1);
    const bad = ['a', ':)', '👍👍', '👍 ', ' 👍', 'ok👍', '\u200d', '1', '#', 'ä', '😀x', '\u{E0067}'];
    for (let i = 0; i < 30; i++) bad.push(rng.pick(good) + rng.pick(['a', '👍', '\u200d', '.', rng.pick(good)]));
    for (const e of bad) {
      const err = await refusal(react(e));
      assert.equal(err.code, Code.InvalidArgument, JSON.stringify(e));
      assert.match(err.rawMessage, /^emoji: /, JSON.stringify(e));
    }
    for (const e of good) assert.ok((await react(e)).message?.reactions.some((r) => r.emoji === e), e);
  });

  it('keeps one reaction per emoji per person, counts them in first-use order, marks mine, and removes idempotently', async () => {
    const c = await cast(sys, 0, 2);
    const [a, b] = c.members as [Person, Person];
    const m = await send(c, c.owner, 'thank you all');
    const react = (p: Person, emoji: string) => sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji }, p.call).then((r) => r.message!);
    await react(a, '🫶');
    await react(b, '🙏');
    await react(b, '🫶');
    const again = await react(b, '🫶');
    assert.deepEqual(again.reactions.map((r) => [r.emoji, r.count, r.reactedByMe]), [['🫶', 2, true], ['🙏', 1, true]]);
    assert.equal(again.version, 4n, 'three changes, the repeat none');
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, c.owner.call);
    assert.deepEqual(texts(messages)[0]!.reactions.map((r) => [r.emoji, r.count, r.reactedByMe]), [['🫶', 2, false], ['🙏', 1, false]]);
    const removed = await sys.chat.removeReaction({ circleId: c.circleId, messageId: m.id, emoji: '🫶' }, b.call);
    assert.deepEqual(removed.message!.reactions.map((r) => [r.emoji, r.count]), [['🫶', 1], ['🙏', 1]]);
    const noop = await sys.chat.removeReaction({ circleId: c.circleId, messageId: m.id, emoji: '🫶' }, b.call);
    assert.equal(noop.message!.version, removed.message!.version);
  });

  it('stops at 20 different emoji, refuses muted members and deleted messages, and a delete takes them away', async () => {
    const c = await cast(sys, 1, 2);
    const [a, b] = c.members as [Person, Person];
    const m = await send(c, c.owner, 'many');
    const emoji = ['😀', '😃', '😄', '😁', '😆', '😅', '😂', '🤣', '😊', '😇', '🙂', '🙃', '😉', '😌', '😍', '🥰', '😘', '😗', '😙', '😚', '😋'];
    for (const e of emoji.slice(0, 20)) await sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji: e }, a.call);
    assert.equal((await refusal(sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji: emoji[20]! }, a.call))).code, Code.FailedPrecondition);
    await sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji: emoji[0]! }, b.call);
    await sys.circle.muteMember({ circleId: c.circleId, userId: b.userId, duration: durationFromMs(60_000), reason: '' }, c.hosts[0]!.call);
    const mutedErr = await refusal(sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji: '😀' }, b.call));
    assert.equal(mutedErr.code, Code.PermissionDenied);
    assert.equal(mutedErr.findDetails(MuteInfoSchema).length, 1);
    await sys.chat.deleteMessage({ circleId: c.circleId, messageId: m.id, reason: '' }, c.owner.call);
    assert.equal((await refusal(sys.chat.addReaction({ circleId: c.circleId, messageId: m.id, emoji: '😀' }, a.call))).code, Code.FailedPrecondition);
    const left = await sys.db.db.selectFrom('message_reactions').select('emoji').where('message_id', '=', m.id).execute();
    assert.equal(left.length, 0);
  });
});

describe('Pins', () => {
  it('lets hosts, the owner and moderators pin up to 3, idempotently, lists them newest first, and unpins on delete', async () => {
    const c = await cast(sys, 1, 1);
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push(await send(c, c.members[0]!, `note ${i}`));
    const pin = (p: Person, m: Message) => sys.chat.pinMessage({ circleId: c.circleId, messageId: m.id }, p.call).then((r) => r.message!);
    assert.equal((await refusal(pin(c.members[0]!, ms[0]!))).code, Code.PermissionDenied, 'members do not pin');
    const first = await pin(c.hosts[0]!, ms[0]!);
    assert.ok(first.pinned && first.pinTime);
    assert.equal((await pin(c.owner, ms[0]!)).version, first.version, 'pinning a pinned message changes nothing');
    await pin(c.owner, ms[1]!);
    const mod = await sys.moderator();
    await pin(mod, ms[2]!);
    assert.equal((await refusal(pin(c.owner, ms[3]!))).code, Code.FailedPrecondition, 'at most 3');
    const listed = await sys.chat.listPins({ circleId: c.circleId, pageSize: 2 }, c.members[0]!.call);
    const rest = await sys.chat.listPins({ circleId: c.circleId, pageSize: 2, pageToken: listed.nextPageToken }, c.members[0]!.call);
    assert.deepEqual([...listed.messages, ...rest.messages].map((m) => m.body), ['note 2', 'note 1', 'note 0']);
    assert.equal(rest.nextPageToken, '');
    await sys.chat.unpinMessage({ circleId: c.circleId, messageId: ms[1]!.id }, c.hosts[0]!.call);
    await sys.chat.unpinMessage({ circleId: c.circleId, messageId: ms[1]!.id }, c.hosts[0]!.call);
    await sys.chat.deleteMessage({ circleId: c.circleId, messageId: ms[0]!.id, reason: '' }, c.members[0]!.call);
    const after = await sys.chat.listPins({ circleId: c.circleId }, c.owner.call);
    assert.deepEqual(after.messages.map((m) => m.body), ['note 2']);
    await pin(c.owner, ms[3]!);
    assert.equal((await sys.chat.listPins({ circleId: c.circleId }, c.owner.call)).messages.length, 2);
  });
});

describe('Send limits', () => {
  it('refuses the 31st message in a minute and a body repeated a 4th time, with retry-after, storing nothing', async () => {
    const c = await cast(sys, 0, 1);
    const me = c.members[0]!;
    const base = await head(c);
    for (let i = 0; i < 3; i++) await send(c, me, 'same words');
    const dup = await refusal(send(c, me, 'same words'));
    assert.equal(dup.code, Code.ResourceExhausted);
    assert.ok(Number(dup.metadata.get('retry-after')) >= 1, 'retry-after in seconds');
    for (let i = 3; i < 30; i++) await send(c, me, `line ${i}`);
    const flood = await refusal(send(c, me, 'one more'));
    assert.equal(flood.code, Code.ResourceExhausted);
    assert.match(flood.rawMessage, /at most 30 messages a minute/);
    const { lastSeq } = await sys.chat.listMessages({ circleId: c.circleId }, me.call);
    assert.equal(lastSeq, base + 30n, 'refused sends take no seq');
    // A retry of a stored message is not a new send: it still answers.
    const first = (await sys.chat.listMessages({ circleId: c.circleId, position: { case: 'afterSeq', value: base }, pageSize: 1 }, me.call)).messages[0]!;
    assert.equal((await send(c, me, first.body, { clientMessageId: first.clientMessageId })).id, first.id);
    // Others are not limited by it.
    assert.ok(await send(c, c.owner, 'one more'));
  });
});

describe('Messages of the system', () => {
  it('puts joins, a welcome with the guidelines on the first join only, and leaves and removals in the sequence', async () => {
    const c = await cast(sys, 1, 0);
    const guidelines = (await sys.circle.getCircle({ circleId: c.circleId }, c.owner.call)).circle!.guidelines;
    const p = await sys.person('newcomer');
    const byId = { target: { case: 'circleId' as const, value: c.circleId } };
    await sys.circle.joinCircle(byId, p.call);
    await sys.circle.leaveCircle({ circleId: c.circleId }, p.call);
    await sys.circle.joinCircle(byId, p.call);
    await sys.circle.removeMember({ circleId: c.circleId, userId: p.userId, ban: false, reason: '' }, c.owner.call);
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId, position: { case: 'afterSeq', value: 0n } }, c.owner.call);
    const about = messages.filter((m) => m.subjectUserId === p.userId);
    assert.deepEqual(
      about.map((m) => m.kind),
      [MessageKind.MEMBER_JOINED, MessageKind.WELCOME, MessageKind.MEMBER_LEFT, MessageKind.MEMBER_JOINED, MessageKind.MEMBER_LEFT],
      'one welcome, on the first join',
    );
    const welcome = about[1]!;
    assert.equal(welcome.body, guidelines);
    assert.ok(guidelines.length > 0);
    for (const m of about) {
      assert.equal(m.senderId, '', 'no sender: the system, not a fake account');
      assert.equal(m.clientMessageId, '');
    }
    const row = await sys.db.db.selectFrom('messages').select(['body', 'body_key_id']).where('id', '=', welcome.id).executeTakeFirstOrThrow();
    assert.ok(row.body && !Buffer.from(row.body).toString('latin1').includes(guidelines), 'sealed like any body');
    assert.ok(published.some((e) => e.messageId === welcome.id && e.change === 'created'), 'delivered like any message');
  });
});

describe('Blocks', () => {
  it("shows a blocked pair's messages to each other as placeholders in every read, in both directions, keeping the seq", async () => {
    const c = await cast(sys, 0, 3);
    const [a, b, x] = c.members as [Person, Person, Person];
    const root = await send(c, a, 'a speaks', { mentionUserIds: [x.userId] });
    await sys.chat.addReaction({ circleId: c.circleId, messageId: root.id, emoji: '👍' }, x.call);
    const reply = await send(c, b, 'b replies', { threadRootId: root.id });
    await sys.chat.pinMessage({ circleId: c.circleId, messageId: root.id }, c.owner.call);
    await sys.user.blockUser({ userId: a.userId }, b.call);

    for (const [viewer, sender] of [[b, a], [a, b]] as const) {
      const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, viewer.call);
      const theirs = messages.find((m) => m.senderId === sender.userId)!;
      assert.equal(theirs.hiddenByBlock, true);
      assert.equal(theirs.body, '');
      assert.deepEqual([theirs.mentionUserIds, theirs.reactions], [[], []]);
      assert.ok(theirs.seq > 0n, 'the placeholder keeps its seq');
    }
    const thread = await sys.chat.getThread({ circleId: c.circleId, rootMessageId: root.id }, b.call);
    assert.equal(thread.root?.hiddenByBlock, true);
    assert.equal(thread.replies[0]?.body, 'b replies', 'my own message stays');
    const pins = await sys.chat.listPins({ circleId: c.circleId }, b.call);
    assert.equal(pins.messages[0]?.hiddenByBlock, true);
    // Everyone else still sees both.
    const { messages } = await sys.chat.listMessages({ circleId: c.circleId }, x.call);
    assert.deepEqual(texts(messages).map((m) => [m.body, m.hiddenByBlock]), [['a speaks', false], ['b replies', false]]);
    assert.equal(reply.hiddenByBlock, false);
  });
});

describe('ListMentions', () => {
  it('lists my mentions newest first across circles, paged, without deleted messages, blocked senders or circles I left', async () => {
    const me = await sys.person('mentioned');
    const circles: Cast[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await cast(sys, 0, 1);
      await sys.circle.joinCircle({ target: { case: 'circleId', value: c.circleId } }, me.call);
      circles.push(c);
    }
    const [c1, c2] = circles as [Cast, Cast];
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(i % 2 ? c2 : c1, (i % 2 ? c2 : c1).owner, `hey @me ${i}`, { mentionUserIds: [me.userId] }));
    await send(c1, c1.owner, 'not about me');
    const gone = await send(c1, c1.members[0]!, 'hey @me, deleted', { mentionUserIds: [me.userId] });
    await sys.chat.deleteMessage({ circleId: c1.circleId, messageId: gone.id, reason: '' }, c1.members[0]!.call);
    const walk = async () => {
      const out: string[] = [];
      let token = '';
      for (let pages = 0; pages < 10; pages++) {
        const page = await sys.chat.listMentions({ pageSize: 2, pageToken: token }, me.call);
        out.push(...page.messages.map((m) => m.body));
        token = page.nextPageToken;
        if (!token) break;
      }
      return out;
    };
    assert.deepEqual(await walk(), ['hey @me 4', 'hey @me 3', 'hey @me 2', 'hey @me 1', 'hey @me 0']);
    await sys.user.blockUser({ userId: c2.owner.userId }, me.call);
    assert.deepEqual(await walk(), ['hey @me 4', 'hey @me 2', 'hey @me 0'], 'a block hides the blocked person’s mentions');
    await sys.circle.leaveCircle({ circleId: c1.circleId }, me.call);
    assert.deepEqual(await walk(), [], 'and leaving a circle takes its mentions away');
    assert.equal((await refusal(sys.chat.listMentions({ pageToken: 'forged' }, me.call))).code, Code.InvalidArgument);
  });
});

describe('ListMessagesForDelivery', () => {
  it('gives Hearth services a range of messages as stored, and nobody else', async () => {
    const c = await cast(sys, 0, 1);
    const base = await head(c);
    const a = await send(c, c.members[0]!, 'one');
    await sys.chat.addReaction({ circleId: c.circleId, messageId: a.id, emoji: '👍' }, c.members[0]!.call);
    await send(c, c.owner, 'two');
    const gateway = sys.host.runtime.serviceClient(ChatService);
    const page = await gateway.listMessagesForDelivery({ circleId: c.circleId, afterSeq: base, pageSize: 10 });
    assert.deepEqual(page.messages.map((m) => m.body), ['one', 'two']);
    assert.equal(page.lastSeq, base + 2n);
    assert.deepEqual(page.messages[0]!.reactions.map((r) => [r.emoji, r.count, r.reactedByMe]), [['👍', 1, false]]);
    const asUser = await refusal(sys.chat.listMessagesForDelivery({ circleId: c.circleId, afterSeq: 0n, pageSize: 10 }, c.owner.call));
    assert.equal(asUser.code, Code.PermissionDenied);
  });

  it('reads in one round trip exactly what ListMessages shows a member, over generated histories and ranges', async () => {
    const gateway = sys.host.runtime.serviceClient(ChatService);
    const emoji = ['👍', '🌱', '💛', '🙏'];
    for (let seed = 1; seed <= 4; seed++) {
      const rnd = createRng(seed);
      const c = await cast(sys, 1, 3);
      const people = [c.owner, ...c.hosts, ...c.members];
      const sent: Message[] = [];
      const deleted = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const who = rnd.pick(people);
        const roots = sent.filter((m) => m.threadRootId === '' && !deleted.has(m.id));
        const root = roots.length > 0 && rnd.chance(0.2) ? rnd.pick(roots) : undefined;
        const mentions = rnd.chance(0.3) ? rnd.shuffle(people).slice(0, 1 + rnd.int(3)).map((p) => p.userId) : [];
        sent.push(await send(c, who, `m${i}`, { ...(root ? { threadRootId: root.id } : {}), mentionUserIds: mentions }));
        if (rnd.chance(0.4)) {
          const target = rnd.pick(sent);
          for (const p of rnd.shuffle(people).slice(0, 1 + rnd.int(3))) {
            await sys.chat.addReaction({ circleId: c.circleId, messageId: target.id, emoji: rnd.pick(emoji) }, p.call).catch(() => undefined);
          }
        }
        if (rnd.chance(0.1)) {
          const mine = sent.filter((m) => m.senderId === who.userId);
          const gone = mine.length > 0 ? rnd.pick(mine) : undefined;
          if (gone) {
            await sys.chat.deleteMessage({ circleId: c.circleId, messageId: gone.id, reason: 'test' }, who.call);
            deleted.add(gone.id);
          }
        }
      }
      const last = Number(await head(c));
      for (let probe = 0; probe < 8; probe++) {
        const after = rnd.int(last + 3);
        const size = 1 + rnd.int(40);
        const got = await gateway.listMessagesForDelivery({ circleId: c.circleId, afterSeq: BigInt(after), pageSize: size });
        const want = await sys.chat.listMessages({ circleId: c.circleId, position: { case: 'afterSeq', value: BigInt(after) }, pageSize: size }, c.hosts[0]!.call);
        assert.equal(got.lastSeq, BigInt(last));
        const plain = (ms: readonly Message[]) => ms.map((m) => ({ ...m, reactions: m.reactions.map((r) => ({ ...r, reactedByMe: false })) }));
        assert.deepEqual(plain(got.messages), plain(want.messages), `seed ${seed}: after ${after}, ${size}`);
      }
    }
    const unknown = await refusal(gateway.listMessagesForDelivery({ circleId: randomUUID(), afterSeq: 0n, pageSize: 10 }));
    assert.equal(unknown.code, Code.NotFound);
  });
});
