// The SDK's realtime client against a real host (auth, user, circle and the gateway in one
// process): messages arrive once and in seq order across dropped connections, resumes and
// Resyncs, gaps are filled with ListMessages, and reconnects back off with jitter.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CircleVisibility, type Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type ChannelEvent, PresenceStatus } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { type Person, type TestSystem, startTestSystem } from '@hearth/testkit/system';
import { type HearthClient, RealtimeClient, type RealtimeStatus, createHearthClient } from '../src/index.js';

const MAX_BACKFILL = 20;
let sys: TestSystem<'auth' | 'user' | 'circle' | 'realtime'>;

beforeAll(async () => {
  sys = await startTestSystem({
    services: ['auth', 'user', 'circle', 'realtime'],
    env: { HEARTH_REALTIME_MAX_BACKFILL: String(MAX_BACKFILL), HEARTH_CIRCLE_SENDS_PER_MINUTE: '10000' },
  });
});
afterAll(async () => {
  await sys?.close();
});

interface Member {
  readonly person: Person;
  readonly sdk: HearthClient;
}

async function member(name: string): Promise<Member> {
  const person = await sys.seed.person({ name });
  return { person, sdk: createHearthClient({ baseUrl: sys.url, getAccessToken: () => person.accessToken }) };
}

async function circleOf(owner: Member, ...others: Member[]): Promise<string> {
  const { circle } = await owner.sdk.circle.createCircle({ name: 'Evening', visibility: CircleVisibility.PUBLIC, idempotencyKey: `c-${randomUUID()}` });
  for (const o of others) await o.sdk.circle.joinCircle({ target: { case: 'circleId', value: circle!.id } });
  return circle!.id;
}

function realtime(m: Member, statuses: RealtimeStatus[] = []): RealtimeClient {
  return new RealtimeClient({
    baseUrl: sys.url,
    accessToken: () => m.person.accessToken,
    chat: m.sdk.chat,
    backoff: { initialMs: 50, maxMs: 400 },
    onStatus: (s) => statuses.push(s),
  });
}

async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const say = (m: Member, circleId: string, body: string) =>
  m.sdk.chat.sendMessage({ circleId, clientMessageId: randomUUID(), body }).then((r) => r.message!);

async function headOf(m: Member, circleId: string): Promise<bigint> {
  return (await m.sdk.chat.listMessages({ circleId, pageSize: 1 })).lastSeq;
}

/** Every seq from `from` to `to`, once, in order. */
function assertDense(got: readonly Message[], from: bigint, to: bigint, what: string): void {
  const want: bigint[] = [];
  for (let s = from; s <= to; s++) want.push(s);
  assert.deepEqual(
    got.map((m) => m.seq),
    want,
    what,
  );
}

describe('RealtimeClient', () => {
  it('shows every message once, in order, across dropped connections while the other member keeps sending', async () => {
    const [ash, birch] = [await member('ash'), await member('birch')];
    const circleId = await circleOf(ash, birch);
    const start = await headOf(birch, circleId);
    const shown: Message[] = [];
    const statuses: RealtimeStatus[] = [];
    const rt = realtime(birch, statuses);
    rt.follow(circleId, start, { onMessage: (m) => shown.push(m) });
    rt.start();
    await waitFor(() => statuses.some((s) => s.state === 'open'), 'the socket');
    await say(ash, circleId, 'hello birch');
    await waitFor(() => shown.length === 1, 'the first message');

    // Birch's connection drops three times while ash sends 50 messages.
    const sending = (async () => {
      for (let i = 0; i < 50; i++) await say(ash, circleId, `message ${i}`);
    })();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 40));
      rt.drop();
    }
    await sending;
    const end = await headOf(ash, circleId);
    await waitFor(() => shown.at(-1)?.seq === end, 'all 50', 15_000);
    assertDense(shown, start + 1n, end, 'once each, in seq order, nothing missing');
    assert.deepEqual(shown.slice(1).map((m) => m.body), Array.from({ length: 50 }, (_, i) => `message ${i}`));
    assert.ok(statuses.filter((s) => s.state === 'open').length >= 2, 'it reconnected');
    rt.close();
  });

  it("hands the app the circle's other events, typed: presence of people who share it, reactions", async () => {
    const [ash, birch] = [await member('ash'), await member('birch')];
    const circleId = await circleOf(ash, birch);
    const { settings } = await ash.sdk.user.getMe({});
    await ash.sdk.user.updateSettings({ version: settings!.version, showPresence: true });
    const seen: ChannelEvent[] = [];
    const birchShown: Message[] = [];
    const rb = realtime(birch);
    rb.follow(circleId, await headOf(birch, circleId), { onMessage: (m) => birchShown.push(m), onEvent: (e) => seen.push(e) });
    rb.start();
    const ra = realtime(ash);
    ra.follow(circleId, await headOf(ash, circleId), { onMessage: () => undefined });
    ra.start();
    await waitFor(() => seen.some((e) => e.payload.case === 'presenceChanged'), 'ash online');
    const m = await say(ash, circleId, 'hi');
    await waitFor(() => birchShown.length === 1, 'the message');
    await ash.sdk.chat.addReaction({ circleId, messageId: m.id, emoji: '🌱' });
    await waitFor(() => seen.some((e) => e.payload.case === 'reactionChanged'), 'the reaction');
    ra.close();
    await waitFor(() => seen.filter((e) => e.payload.case === 'presenceChanged').length === 2, 'ash offline');
    const presence = seen.flatMap((e) => (e.payload.case === 'presenceChanged' ? [[e.payload.value.userId, e.payload.value.status]] : []));
    assert.deepEqual(presence, [
      [ash.person.userId, PresenceStatus.ONLINE],
      [ash.person.userId, PresenceStatus.OFFLINE],
    ]);
    const reaction = seen.find((e) => e.payload.case === 'reactionChanged')!.payload.value as { emoji: string; count: number };
    assert.deepEqual([reaction.emoji, reaction.count], ['🌱', 1]);
    rb.close();
  });

  it('fetches what a Resync leaves out, and what it missed while away, with ListMessages', async () => {
    const [ash, birch] = [await member('ash'), await member('birch')];
    const circleId = await circleOf(ash, birch);
    const start = await headOf(birch, circleId);
    for (let i = 0; i < MAX_BACKFILL + 15; i++) await say(ash, circleId, `while away ${i}`);
    const end = await headOf(ash, circleId);
    const shown: Message[] = [];
    const rt = realtime(birch);
    rt.follow(circleId, start, { onMessage: (m) => shown.push(m) });
    rt.start();
    await waitFor(() => shown.at(-1)?.seq === end, 'the range the gateway would not replay');
    assertDense(shown, start + 1n, end, 'the Resync range, fetched');
    await say(ash, circleId, 'and live again');
    await waitFor(() => shown.at(-1)?.body === 'and live again', 'live after the resync');
    assertDense(shown, start + 1n, end + 1n, 'then live, with no gap');
    rt.close();
  });

  it('ends a circle it may no longer read, and backs off with jitter when the gateway is unreachable', async () => {
    const [ash, birch] = [await member('ash'), await member('birch')];
    const circleId = await circleOf(ash, birch);
    const ended: string[] = [];
    const rt = realtime(birch);
    rt.follow(circleId, await headOf(birch, circleId), { onMessage: () => undefined, onEnded: (r) => ended.push(r) });
    rt.start();
    await new Promise((r) => setTimeout(r, 200));
    await ash.sdk.circle.removeMember({ circleId, userId: birch.person.userId, ban: false, reason: '' });
    await waitFor(() => ended.length === 1, 'the channel to end');
    rt.close();

    const statuses: RealtimeStatus[] = [];
    let draws = 0;
    const offline = new RealtimeClient({
      baseUrl: 'http://127.0.0.1:9',
      accessToken: () => 'x',
      chat: birch.sdk.chat,
      backoff: { initialMs: 20, maxMs: 80 },
      random: () => (draws++ % 2 === 0 ? 0 : 0.999),
      onStatus: (s) => statuses.push(s),
    });
    offline.start();
    await waitFor(() => statuses.filter((s) => s.state === 'closed').length >= 5, 'five failed attempts', 5_000);
    offline.close();
    const waits = statuses.flatMap((s) => (s.state === 'closed' && s.retryInMs !== undefined ? [s.retryInMs] : []));
    // Ceilings 20, 40, 80, 80, ...: each wait lies in [ceiling / 2, ceiling].
    const ceilings = [20, 40, 80, 80, 80];
    waits.slice(0, 5).forEach((w, i) => assert.ok(w >= ceilings[i]! / 2 && w <= ceilings[i]!, `wait ${i}: ${w} ms`));
  });
});
