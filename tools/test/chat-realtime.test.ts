// Circle chat over the realtime gateway, in monolith mode through the test harness: Subscribe
// and Hello's resume, live messages in seq order, resume with backfill (while messages keep
// coming) and Resync past the backfill limit, edits and deletions, block placeholders, access
// revoked on removal, and refusals that leave the socket open.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type MessageInitShape, create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import {
  ClientFrameSchema,
  type ChannelEvent,
  ErrorCode,
  MembershipChangeKind,
  PresenceStatus,
  type ServerFrame,
  ServerFrameSchema,
  UnsubscribeReason,
} from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import type { Person } from '@hearth/testkit/system';
import { WebSocket } from 'ws';
import { type WholeSystem, startWholeSystem } from './helpers.js';

const MAX_BACKFILL = 40;
let whole: WholeSystem;

beforeAll(async () => {
  whole = await startWholeSystem({ HEARTH_REALTIME_MAX_BACKFILL: String(MAX_BACKFILL), HEARTH_CIRCLE_SENDS_PER_MINUTE: '10000' });
});
afterAll(async () => {
  await whole?.close();
});

interface Socket {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[];
  /** Waits until `pred` holds for the frames received so far (or fails after `ms`). */
  until(pred: (frames: readonly ServerFrame[]) => boolean, what: string, ms?: number): Promise<void>;
  send(frame: MessageInitShape<typeof ClientFrameSchema>['frame'], id?: bigint): void;
  close(): Promise<void>;
}

async function open(p: Person, resume: Array<{ channel: string; lastSeq?: bigint }> = []): Promise<Socket> {
  const ws = new WebSocket(`${whole.url.replace('http', 'ws')}/v1/realtime`, 'hearth.realtime.v1');
  const frames: ServerFrame[] = [];
  ws.on('message', (data: Buffer) => frames.push(fromBinary(ServerFrameSchema, data)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const send: Socket['send'] = (frame, id = 1n) => ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { id, frame })));
  const socket: Socket = {
    ws,
    frames,
    send,
    async until(pred, what, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!pred(frames)) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; got ${frames.map((f) => f.frame.case).join(', ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
  send({ case: 'hello', value: { protocolVersion: 1, accessToken: p.accessToken, resume } });
  await socket.until((f) => f.some((x) => x.frame.case === 'welcome'), 'Welcome');
  return socket;
}

const events = (frames: readonly ServerFrame[], channel: string): ChannelEvent[] =>
  frames.flatMap((f) => (f.frame.case === 'event' && f.frame.value.channel === channel ? [f.frame.value] : []));
const created = (frames: readonly ServerFrame[], channel: string) =>
  events(frames, channel).flatMap((e) => (e.payload.case === 'messageCreated' ? [e.payload.value] : []));

interface Circle {
  readonly id: string;
  readonly channel: string;
  readonly owner: Person;
  readonly members: Person[];
}

async function circleWith(members: number): Promise<Circle> {
  const { seed, circle: circles } = whole.system;
  const owner = await seed.person({ name: 'owner' });
  const { circle } = await circles.createCircle(
    { name: 'Night owls', visibility: CircleVisibility.PUBLIC, idempotencyKey: `c-${randomUUID()}` },
    owner.call,
  );
  const list: Person[] = [];
  for (let i = 0; i < members; i++) {
    const p = await seed.person({ name: `m${i}` });
    await circles.joinCircle({ target: { case: 'circleId', value: circle!.id } }, p.call);
    list.push(p);
  }
  return { id: circle!.id, channel: `circle:${circle!.id}`, owner, members: list };
}

async function say(c: Circle, who: Person, body: string) {
  const { message } = await whole.system.chat.sendMessage({ circleId: c.id, clientMessageId: randomUUID(), body }, who.call);
  return message!;
}

async function head(c: Circle): Promise<bigint> {
  return (await whole.system.chat.listMessages({ circleId: c.id, pageSize: 1 }, c.owner.call)).lastSeq;
}

/** The seqs of `messages` are exactly from..to, once each, in order. */
function assertRun(messages: ReadonlyArray<{ seq: bigint }>, from: bigint, to: bigint, what: string) {
  const want: bigint[] = [];
  for (let s = from; s <= to; s++) want.push(s);
  assert.deepEqual(
    messages.map((m) => m.seq),
    want,
    what,
  );
}

describe('circle channels', () => {
  it('sends a member the circle’s new messages live, in seq order, after Subscribed', async () => {
    const c = await circleWith(1);
    const [b] = c.members as [Person];
    const sock = await open(b);
    sock.send({ case: 'subscribe', value: { channels: [{ channel: c.channel }] } }, 7n);
    await sock.until((f) => f.some((x) => x.frame.case === 'subscribed'), 'Subscribed');
    const sub = sock.frames.find((f) => f.frame.case === 'subscribed')!.frame.value as { replyTo: bigint; headSeq: bigint };
    assert.equal(sub.replyTo, 7n);
    assert.equal(sub.headSeq, await head(c));
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await say(c, c.owner, `live ${i}`));
    await sock.until((f) => created(f, c.channel).length === 5, 'five messages');
    const got = created(sock.frames, c.channel);
    assert.deepEqual(got.map((m) => m.body), sent.map((m) => m.body));
    assertRun(got, sub.headSeq + 1n, sub.headSeq + 5n, 'live seqs follow the head');
    assert.ok(events(sock.frames, c.channel).every((e) => e.payload.case === 'messageCreated' && e.seq === e.payload.value.seq && e.eventId.length === 36));
    await sock.close();
  });

  it('resumes: a member back after 30 messages gets all of them once, in order, while more keep coming', async () => {
    const c = await circleWith(1);
    const [b] = c.members as [Person];
    const first = await open(b, [{ channel: c.channel }]);
    await say(c, c.owner, 'before');
    await first.until((f) => created(f, c.channel).length === 1, 'the first message');
    const held = created(first.frames, c.channel)[0]!.seq;
    await first.close();

    for (let i = 0; i < 30; i++) await say(c, c.owner, `while away ${i}`);
    // Reconnect while the owner keeps sending: the backfill and the live events overlap.
    const more = (async () => {
      for (let i = 0; i < 15; i++) await say(c, c.owner, `during resume ${i}`);
    })();
    const back = await open(b, [{ channel: c.channel, lastSeq: held }]);
    await more;
    const end = await head(c);
    await back.until((f) => created(f, c.channel).at(-1)?.seq === end, 'everything up to the head', 10_000);
    assertRun(created(back.frames, c.channel), held + 1n, end, 'no gap, no duplicate, in order');
    assert.equal(created(back.frames, c.channel).length, 45);
    await back.close();
  });

  it('sends a Resync instead of replaying more than the backfill limit', async () => {
    const c = await circleWith(1);
    const [b] = c.members as [Person];
    const start = await head(c);
    for (let i = 0; i < MAX_BACKFILL + 5; i++) await say(c, c.owner, `long away ${i}`);
    const end = await head(c);
    const sock = await open(b, [{ channel: c.channel, lastSeq: start }]);
    await sock.until((f) => f.some((x) => x.frame.case === 'resync'), 'Resync');
    const resync = sock.frames.find((f) => f.frame.case === 'resync')!.frame.value as { channel: string; fromSeq: bigint; toSeq: bigint };
    assert.deepEqual([resync.channel, resync.fromSeq, resync.toSeq], [c.channel, start + 1n, end]);
    assert.equal(created(sock.frames, c.channel).length, 0, 'nothing replayed');
    await say(c, c.owner, 'after the resync');
    await sock.until((f) => created(f, c.channel).length === 1, 'live again');
    assert.equal(created(sock.frames, c.channel)[0]!.seq, end + 1n);
    await sock.close();
  });

  it('sends edits and deletions of messages the socket holds as unsequenced events', async () => {
    const c = await circleWith(1);
    const [b] = c.members as [Person];
    const sock = await open(b, [{ channel: c.channel }]);
    const m = await say(c, c.owner, 'typo');
    await sock.until((f) => created(f, c.channel).length === 1, 'the message');
    await whole.system.chat.editMessage({ circleId: c.id, messageId: m.id, version: 1n, body: 'fixed', mentionUserIds: [] }, c.owner.call);
    await sock.until((f) => events(f, c.channel).some((e) => e.payload.case === 'messageEdited'), 'the edit');
    await whole.system.chat.deleteMessage({ circleId: c.id, messageId: m.id, reason: '' }, c.owner.call);
    await sock.until((f) => events(f, c.channel).some((e) => e.payload.case === 'messageDeleted'), 'the deletion');
    const [edited, deleted] = events(sock.frames, c.channel).filter((e) => e.seq === 0n);
    assert.equal(edited?.payload.case === 'messageEdited' && edited.payload.value.body, 'fixed');
    assert.ok(deleted?.payload.case === 'messageDeleted' && deleted.payload.value.deleteTime && deleted.payload.value.body === '');
    await sock.close();
  });

  it('sends reactions and pins of messages the socket holds, with counts and versions', async () => {
    const c = await circleWith(2);
    const [b, x] = c.members as [Person, Person];
    const sock = await open(b, [{ channel: c.channel }]);
    const m = await say(c, c.owner, 'pin me');
    await sock.until((f) => created(f, c.channel).length === 1, 'the message');
    await whole.system.chat.addReaction({ circleId: c.id, messageId: m.id, emoji: '🫶' }, x.call);
    await whole.system.chat.addReaction({ circleId: c.id, messageId: m.id, emoji: '🫶' }, b.call);
    await whole.system.chat.removeReaction({ circleId: c.id, messageId: m.id, emoji: '🫶' }, x.call);
    await whole.system.chat.pinMessage({ circleId: c.id, messageId: m.id }, c.owner.call);
    await whole.system.chat.unpinMessage({ circleId: c.id, messageId: m.id }, c.owner.call);
    await sock.until((f) => events(f, c.channel).some((e) => e.payload.case === 'messageUnpinned'), 'the unpin');
    const changes = events(sock.frames, c.channel).filter((e) => e.seq === 0n);
    assert.deepEqual(
      changes.map((e) =>
        e.payload.case === 'reactionChanged'
          ? ['reaction', e.payload.value.emoji, e.payload.value.count, e.payload.value.added, e.payload.value.userId, e.payload.value.messageVersion]
          : [e.payload.case, e.payload.case === 'messagePinned' || e.payload.case === 'messageUnpinned' ? e.payload.value.pinned : null],
      ),
      [
        ['reaction', '🫶', 1, true, x.userId, 2n],
        ['reaction', '🫶', 2, true, b.userId, 3n],
        ['reaction', '🫶', 1, false, x.userId, 4n],
        ['messagePinned', true],
        ['messageUnpinned', false],
      ],
    );
    await sock.close();
  });

  it('shows the words of someone the reader has a block with as a placeholder, keeping the seq', async () => {
    const c = await circleWith(2);
    const [b, x] = c.members as [Person, Person];
    await whole.system.user.blockUser({ userId: x.userId }, b.call);
    const sock = await open(b, [{ channel: c.channel }]);
    await say(c, x, 'you cannot read this');
    await say(c, c.owner, 'you can read this');
    await sock.until((f) => created(f, c.channel).length === 2, 'both messages');
    const [hidden, shown] = created(sock.frames, c.channel);
    assert.deepEqual([hidden?.hiddenByBlock, hidden?.body, shown?.hiddenByBlock, shown?.body], [true, '', false, 'you can read this']);
    await sock.close();
  });

  it('ends the subscription with ACCESS_REVOKED when the member is removed, and sends nothing after it', async () => {
    const c = await circleWith(1);
    const [b] = c.members as [Person];
    const sock = await open(b, [{ channel: c.channel }]);
    await whole.system.circle.removeMember({ circleId: c.id, userId: b.userId, ban: false, reason: '' }, c.owner.call);
    await sock.until((f) => f.some((x) => x.frame.case === 'unsubscribed'), 'Unsubscribed', 1_000);
    const u = sock.frames.find((f) => f.frame.case === 'unsubscribed')!.frame.value as { channel: string; reason: UnsubscribeReason };
    assert.deepEqual([u.channel, u.reason], [c.channel, UnsubscribeReason.ACCESS_REVOKED]);
    const seen = sock.frames.length;
    await say(c, c.owner, 'not for b');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(created(sock.frames.slice(seen), c.channel).length, 0);
    await sock.close();
  });

  it('refuses non-members and other people’s user channels per channel, keeps the socket open, and unsubscribes on request', async () => {
    const c = await circleWith(1);
    const stranger = await whole.system.seed.person({ name: 'stranger' });
    const sock = await open(stranger);
    sock.send({ case: 'subscribe', value: { channels: [{ channel: c.channel }, { channel: `user:${c.owner.userId}` }] } }, 3n);
    await sock.until((f) => f.filter((x) => x.frame.case === 'error').length === 2, 'two refusals');
    const errors = sock.frames.flatMap((f) => (f.frame.case === 'error' ? [f.frame.value] : []));
    assert.deepEqual(
      errors.map((e) => [e.code, e.channel, e.closing, e.replyTo]),
      [
        [ErrorCode.PERMISSION_DENIED, c.channel, false, 3n],
        [ErrorCode.PERMISSION_DENIED, `user:${c.owner.userId}`, false, 3n],
      ],
    );
    const member = await open(c.members[0]!, [{ channel: c.channel }]);
    member.send({ case: 'unsubscribe', value: { channels: [c.channel] } }, 9n);
    await member.until((f) => f.some((x) => x.frame.case === 'unsubscribed'), 'Unsubscribed');
    await say(c, c.owner, 'after unsubscribe');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(created(member.frames, c.channel).length, 0);
    assert.equal(sock.ws.readyState, WebSocket.OPEN);
    await Promise.all([sock.close(), member.close()]);
  });

  it('exports the gateway metrics: sockets, subscriptions, frames by kind, resumes, Resyncs, fan-out latency and ack lag', async () => {
    const c = await circleWith(1);
    const sock = await open(c.members[0]!, [{ channel: c.channel, lastSeq: 0n }]);
    await say(c, c.owner, 'measured');
    await sock.until((f) => created(f, c.channel).some((m) => m.body === 'measured'), 'the message');
    sock.send({ case: 'ack', value: { channel: c.channel, seq: 1n } }, 40n);
    await new Promise((r) => setTimeout(r, 100));
    const text = await (await fetch(`${whole.url}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 'NaN');
    assert.ok(value(/^hearth_realtime_sockets\{[^}]*state="welcomed"[^}]*\} (\d+)/m) >= 1, 'a welcomed socket');
    assert.ok(value(/^hearth_realtime_subscriptions\{[^}]*\} (\d+)/m) >= 1, 'a subscription');
    assert.ok(value(/^hearth_realtime_frames_out_total\{[^}]*kind="event"[^}]*\} (\d+)/m) >= 1, 'events sent');
    assert.ok(value(/^hearth_realtime_frames_in_total\{[^}]*kind="hello"[^}]*\} (\d+)/m) >= 1, 'Hellos received');
    assert.ok(value(/^hearth_realtime_resumes_total\{[^}]*\} (\d+)/m) >= 1, 'resumes');
    assert.ok(value(/^hearth_realtime_resyncs_total\{[^}]*\} (\d+)/m) >= 1, 'the Resync of the test above');
    assert.ok(value(/^hearth_realtime_fanout_seconds_count\{[^}]*\} (\d+)/m) >= 1, 'fan-out latency observed');
    assert.ok(value(/^hearth_realtime_ack_lag_messages_count\{[^}]*\} (\d+)/m) >= 1, 'the Ack measured as lag');
    await sock.close();
  });

  it('sends typing to the circle’s other sockets (not the typist, not across a block), at most once per interval, never from a muted member', async () => {
    const c = await circleWith(3);
    const [a, b, x] = c.members as [Person, Person, Person];
    await whole.system.user.blockUser({ userId: a.userId }, x.call);
    const [sa, sb, sx] = (await Promise.all([a, b, x].map((p) => open(p, [{ channel: c.channel }])))) as [Socket, Socket, Socket];
    await Promise.all([sa, sb, sx].map((s) => s.until((f) => f.some((y) => y.frame.case === 'subscribed'), 'Subscribed')));
    const typingsIn = (frames: readonly ServerFrame[]) => events(frames, c.channel).flatMap((e) => (e.payload.case === 'typing' ? [e.payload.value] : []));
    const typings = (s: Socket) => typingsIn(s.frames);
    sa.send({ case: 'typing', value: { channel: c.channel, isTyping: true } }, 20n);
    sa.send({ case: 'typing', value: { channel: c.channel, isTyping: true } }, 21n);
    await sb.until((f) => typingsIn(f).length >= 1, 'the typing indicator');
    sa.send({ case: 'typing', value: { channel: c.channel, isTyping: false } }, 22n);
    await sb.until((f) => typingsIn(f).length >= 2, 'the stop');
    await new Promise((r) => setTimeout(r, 200));
    const seen = typings(sb);
    assert.deepEqual(seen.map((t) => [t.userId, t.isTyping]), [[a.userId, true], [a.userId, false]], 'the repeat within the interval was dropped');
    assert.ok(seen[0]!.expireTime && events(sb.frames, c.channel).filter((e) => e.payload.case === 'typing').every((e) => e.seq === 0n));
    assert.equal(typings(sa).length, 0, 'not echoed to the typist');
    assert.equal(typings(sx).length, 0, 'not across a block');

    await whole.system.circle.muteMember({ circleId: c.id, userId: b.userId, duration: { seconds: 600n }, reason: '' }, c.owner.call);
    await new Promise((r) => setTimeout(r, 100));
    sb.send({ case: 'typing', value: { channel: c.channel, isTyping: true } }, 30n);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(typings(sa).length, 0, 'a muted member’s typing is dropped');
    const other = (await circleWith(0)).channel;
    sa.send({ case: 'typing', value: { channel: other, isTyping: true } }, 31n);
    await sa.until((f) => f.some((y) => y.frame.case === 'error'), 'the refusal');
    const err = sa.frames.find((y) => y.frame.case === 'error')!.frame.value as { code: ErrorCode; closing: boolean; channel: string };
    assert.deepEqual([err.code, err.closing, err.channel], [ErrorCode.PERMISSION_DENIED, false, other]);
    await Promise.all([sa, sb, sx].map((s) => s.close()));
  });

  it('shows who is online in a circle to its other subscribers: only people who share presence, not across a block, current from Subscribed on', async () => {
    const c = await circleWith(3);
    const [a, b, x] = c.members as [Person, Person, Person];
    const share = async (p: Person, on: boolean) => {
      const { settings } = await whole.system.user.getMe({}, p.call);
      await whole.system.user.updateSettings({ version: settings!.version, showPresence: on }, p.call);
    };
    await share(a, true);
    await share(x, true);
    await whole.system.user.blockUser({ userId: a.userId }, x.call);
    const presenceIn = (frames: readonly ServerFrame[]) =>
      events(frames, c.channel).flatMap((e) => (e.payload.case === 'presenceChanged' ? [[e.payload.value.userId, PresenceStatus[e.payload.value.status]]] : []));
    const subscribed = (s: Socket) => s.until((f) => f.some((y) => y.frame.case === 'subscribed'), 'Subscribed');
    const sb = await open(b, [{ channel: c.channel }]);
    await subscribed(sb);
    // a comes online (twice: one person, two sockets), the owner (not sharing) too.
    const sa1 = await open(a, [{ channel: c.channel }]);
    const sa2 = await open(a, [{ channel: c.channel }]);
    const so = await open(c.owner, [{ channel: c.channel }]);
    await Promise.all([sa1, sa2, so].map(subscribed));
    await sb.until((f) => presenceIn(f).length >= 1, 'a online');
    // x comes online: b and the owner see it, a does not (a block), nor is x told of a.
    const sx = await open(x, [{ channel: c.channel }]);
    await subscribed(sx);
    await sb.until((f) => presenceIn(f).length >= 2, 'x online');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(presenceIn(sb.frames), [
      [a.userId, 'ONLINE'],
      [x.userId, 'ONLINE'],
    ]);
    assert.deepEqual(presenceIn(sa1.frames), [], 'not across a block, and not oneself');
    assert.deepEqual(presenceIn(sx.frames), [], 'the snapshot leaves out the blocked');
    assert.deepEqual(presenceIn(so.frames), [
      [a.userId, 'ONLINE'],
      [x.userId, 'ONLINE'],
    ], 'the snapshot at Subscribed, then live');
    assert.ok(events(sb.frames, c.channel).filter((e) => e.payload.case === 'presenceChanged').every((e) => e.seq === 0n));
    // One of a's sockets closes: still online. The other: offline.
    await sa1.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(presenceIn(sb.frames).length, 2, 'still online through the other socket');
    await sa2.close();
    await sb.until((f) => presenceIn(f).length >= 3, 'a offline');
    assert.deepEqual(presenceIn(sb.frames)[2], [a.userId, 'OFFLINE']);
    // x turns sharing off while connected: offline at once; on again: online.
    await share(x, false);
    await sb.until((f) => presenceIn(f).length >= 4, 'x offline');
    await share(x, true);
    await sb.until((f) => presenceIn(f).length >= 5, 'x online again');
    assert.deepEqual(presenceIn(sb.frames).slice(3), [
      [x.userId, 'OFFLINE'],
      [x.userId, 'ONLINE'],
    ]);
    // x unsubscribes: offline.
    sx.send({ case: 'unsubscribe', value: { channels: [c.channel] } }, 9n);
    await sb.until((f) => presenceIn(f).length >= 6, 'x gone');
    assert.deepEqual(presenceIn(sb.frames)[5], [x.userId, 'OFFLINE']);
    await Promise.all([sb, so, sx].map((s) => s.close()));
  });

  it("tells a person's own user channel of their memberships and of read positions moved on another device", async () => {
    const c = await circleWith(1);
    const [b] = c.members as [Person];
    const me = `user:${b.userId}`;
    const sock = await open(b, [{ channel: me }]);
    await sock.until((f) => f.some((x) => x.frame.case === 'subscribed'), 'Subscribed');
    const mine = () => events(sock.frames, me);
    // Another device marks the circle read.
    for (let i = 0; i < 3; i++) await say(c, c.owner, `to read ${i}`);
    const last = await head(c);
    await whole.system.chat.markRead({ circleId: c.id, seq: last - 1n }, b.call);
    await sock.until(() => mine().some((e) => e.payload.case === 'readMarkerUpdated'), 'the read position');
    const marker = mine().find((e) => e.payload.case === 'readMarkerUpdated')!.payload.value as { circleId: string; lastSeq: bigint; lastReadSeq: bigint; unreadCount: number };
    assert.deepEqual([marker.circleId, marker.lastSeq, marker.lastReadSeq, marker.unreadCount], [c.id, last, last - 1n, 1]);
    // Joined elsewhere, muted, removed.
    const other = await circleWith(0);
    await whole.system.circle.joinCircle({ target: { case: 'circleId', value: other.id } }, b.call);
    await whole.system.circle.muteMember({ circleId: other.id, userId: b.userId, duration: { seconds: 600n }, reason: '' }, other.owner.call);
    await whole.system.circle.removeMember({ circleId: other.id, userId: b.userId, ban: false, reason: '' }, other.owner.call);
    await sock.until(() => mine().filter((e) => e.payload.case === 'membershipChanged').length === 3, 'three membership changes');
    const changes = mine().flatMap((e) => (e.payload.case === 'membershipChanged' ? [e.payload.value] : []));
    assert.deepEqual(
      changes.map((m) => [m.circleId, MembershipChangeKind[m.kind], m.member?.userId ?? '', Boolean(m.member?.muteExpireTime)]),
      [
        [other.id, 'JOINED', b.userId, false],
        [other.id, 'UPDATED', b.userId, true],
        [other.id, 'REMOVED', '', false],
      ],
    );
    assert.equal(changes[1]?.member?.version, 2n);
    assert.ok(mine().every((e) => e.seq === 0n));
    await sock.close();
  });
});
