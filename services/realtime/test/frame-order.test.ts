// Frames sent right after Hello, without waiting for Welcome, are answered after Welcome in the
// order they were sent; what waits is bounded and the excess closes the socket at once. Checked
// against a real host over generated scripts (frame kinds, counts, sizes and delays), both while
// Hello is held in authentication (a fresh host waiting for the JWKS) and at natural speed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { ClientFrameSchema, ErrorCode, type ServerFrame } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import type { Host } from '@hearth/platform';
import { type Rng, type TestDatabase, createRng, createTestDatabase } from '@hearth/testkit';
import { type Peer, type TokenIssuer, assertOpen, closedWithin, connect, send, sleep, startGateway, startTokenIssuer, welcomed } from './helpers.js';

type Step =
  | { readonly kind: 'ping'; readonly nonce: bigint }
  /**
   * Channel frames. This host has no circle service: Subscribe cannot check access and closes
   * with INTERNAL; Unsubscribe is answered and the socket goes on; Typing in a channel not
   * subscribed is PERMISSION_DENIED and the socket goes on; Ack is not answered.
   */
  | { readonly kind: 'subscribe' | 'unsubscribe' | 'typing' | 'ack' }
  /** A second Hello: INVALID_FRAME in its turn. */
  | { readonly kind: 'hello' }
  /** Not a frame: INVALID_FRAME in its turn. */
  | { readonly kind: 'garbage' | 'text' };

interface Script {
  /** Pings before Hello, answered at once. */
  readonly prePings: number;
  readonly helloValid: boolean;
  /** Frames after Hello, sent without waiting for Welcome; ids 2, 3, ... */
  readonly steps: readonly Step[];
}

const NON_PING_KINDS = ['subscribe', 'unsubscribe', 'typing', 'ack', 'hello', 'garbage', 'text'] as const;

function generate(rnd: Rng, maxSteps: number): Script {
  const steps: Step[] = Array.from({ length: rnd.int(maxSteps + 1) }, (_, i) =>
    rnd.int(4) > 0 ? { kind: 'ping', nonce: BigInt(1_000 + i) } : { kind: rnd.pick(NON_PING_KINDS) },
  );
  return { prePings: rnd.int(3), helloValid: rnd.int(5) > 0, steps };
}

function describeFrame(f: ServerFrame): string {
  switch (f.frame.case) {
    case 'welcome':
      return `welcome reply_to=${f.frame.value.replyTo}`;
    case 'pong':
      return `pong reply_to=${f.frame.value.replyTo} nonce=${f.frame.value.nonce}`;
    case 'error':
      return `${ErrorCode[f.frame.value.code]} reply_to=${f.frame.value.replyTo}${f.frame.value.closing ? ' closing' : ''}`;
    case 'unsubscribed':
      return `unsubscribed reply_to=${f.frame.value.replyTo}`;
    default:
      return String(f.frame.case);
  }
}

/** What the protocol promises for a script: the answers in order, and the close code if any. */
function expected(script: Script): { answers: string[]; close: number | undefined } {
  const answers = Array.from({ length: script.prePings }, (_, i) => `pong reply_to=${100 + i} nonce=${i}`);
  if (!script.helloValid) return { answers: [...answers, 'UNAUTHENTICATED reply_to=1 closing'], close: 4000 + ErrorCode.UNAUTHENTICATED };
  answers.push('welcome reply_to=1');
  for (const [i, step] of script.steps.entries()) {
    const id = i + 2;
    if (step.kind === 'ping') {
      answers.push(`pong reply_to=${id} nonce=${step.nonce}`);
      continue;
    }
    if (step.kind === 'unsubscribe') {
      answers.push(`unsubscribed reply_to=${id}`);
      continue;
    }
    if (step.kind === 'typing') {
      answers.push(`PERMISSION_DENIED reply_to=${id}`);
      continue;
    }
    // An Ack is measured, never answered.
    if (step.kind === 'ack') continue;
    const [code, replyTo] =
      step.kind === 'hello'
        ? [ErrorCode.INVALID_FRAME, id]
        : step.kind === 'garbage' || step.kind === 'text'
          ? [ErrorCode.INVALID_FRAME, 0]
          : step.kind === 'subscribe'
            ? [ErrorCode.INTERNAL, id]
            : [ErrorCode.UNIMPLEMENTED, id];
    answers.push(`${ErrorCode[code]} reply_to=${replyTo} closing`);
    return { answers, close: 4000 + code };
  }
  return { answers, close: undefined };
}

/** A token whose signature does not verify, though its key id is the issuer's. */
function forged(issuer: TokenIssuer): string {
  const token = issuer.token();
  const at = token.length - 20;
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

async function play(peer: Peer, script: Script, issuer: TokenIssuer, rnd: Rng, maxDelayMs: number): Promise<void> {
  for (let i = 0; i < script.prePings; i++) send(peer.ws, { case: 'ping', value: { nonce: BigInt(i) } }, BigInt(100 + i));
  send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: script.helloValid ? issuer.token() : forged(issuer) } }, 1n);
  for (const [i, step] of script.steps.entries()) {
    const delay = rnd.int(maxDelayMs + 1);
    if (delay > 0) await sleep(delay);
    const id = BigInt(i + 2);
    const channel = `circle:${randomUUID()}`;
    switch (step.kind) {
      case 'ping':
        send(peer.ws, { case: 'ping', value: { nonce: step.nonce } }, id);
        break;
      case 'subscribe':
        send(peer.ws, { case: 'subscribe', value: { channels: [{ channel }] } }, id);
        break;
      case 'unsubscribe':
        send(peer.ws, { case: 'unsubscribe', value: { channels: [channel] } }, id);
        break;
      case 'typing':
        send(peer.ws, { case: 'typing', value: { channel, isTyping: true } }, id);
        break;
      case 'ack':
        send(peer.ws, { case: 'ack', value: { channel, seq: 1n } }, id);
        break;
      case 'hello':
        send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token() } }, id);
        break;
      case 'garbage':
        peer.ws.send(Buffer.from([0x12, 0xff, 0xff]));
        break;
      case 'text':
        peer.ws.send('{"ping":{}}');
        break;
    }
  }
}

/** Reads the promised answers, then checks the socket closed as promised (or is still open). */
async function assertAnswered(peer: Peer, script: Script, what: string): Promise<void> {
  const want = expected(script);
  const got: string[] = [];
  while (got.length < want.answers.length) {
    try {
      got.push(describeFrame(await peer.next()));
    } catch {
      break;
    }
  }
  assert.deepEqual(got, want.answers, `${what}: ${JSON.stringify(script, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);
  if (want.close === undefined) return assertOpen(peer, 7n);
  assert.equal((await closedWithin(peer, 2_000)).code, want.close, what);
  assert.deepEqual(peer.frames.map(describeFrame), [], `${what}: nothing after the closing error`);
}

let db: TestDatabase;
let issuer: TokenIssuer;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'realtime_order' });
  issuer = await startTokenIssuer();
});
afterAll(async () => {
  await issuer.close();
  await db.drop();
});

async function withHost(env: Record<string, string>, fn: (host: Host) => Promise<void>): Promise<void> {
  // Many sockets of this file open at once from one address; the per-address cap is tested elsewhere.
  const host = await startGateway(db.url, { HEARTH_REALTIME_MAX_UNAUTHENTICATED_PER_ADDRESS: '1000', ...env }, issuer);
  try {
    await fn(host);
  } finally {
    await host.close();
  }
}

describe('frames after Hello', () => {
  it('are held while Hello is authenticated and answered after Welcome, in order (80 generated scripts)', async () => {
    await withHost({ HEARTH_REALTIME_MAX_QUEUED_FRAMES: '8' }, async (host) => {
      // A fresh host fetches the keys on its first Hello: holding that answer holds every Hello.
      issuer.hold();
      let runs: Array<{ peer: Peer; script: Script }>;
      try {
        runs = await Promise.all(
          Array.from({ length: 80 }, async (_, i) => {
            const rnd = createRng(i + 1);
            const script = generate(rnd, 8);
            const peer = await connect(host.url);
            await play(peer, script, issuer, rnd, 15);
            return { peer, script };
          }),
        );
        await sleep(50);
        for (const [i, { peer, script }] of runs.entries()) {
          // Only the pings sent before Hello are answered while it is pending; nothing is refused.
          assert.deepEqual(peer.received.map(describeFrame), expected(script).answers.slice(0, script.prePings), `script ${i} before Welcome`);
        }
      } finally {
        issuer.release();
      }
      await Promise.all(runs.map(({ peer, script }, i) => assertAnswered(peer, script, `script ${i}`)));
      for (const { peer } of runs) peer.ws.close();
    });
  });

  it('are answered in order at natural speed, arriving before or after Welcome (200 generated scripts)', async () => {
    await withHost({ HEARTH_REALTIME_MAX_QUEUED_FRAMES: '8' }, async (host) => {
      // Keys fetched once, so Hellos take their usual time.
      (await welcomed(host.url, issuer.token())).ws.close();
      const runs = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const rnd = createRng(10_000 + i);
          const script = generate(rnd, 8);
          const peer = await connect(host.url);
          await play(peer, script, issuer, rnd, 3);
          return { peer, script };
        }),
      );
      await Promise.all(runs.map(({ peer, script }, i) => assertAnswered(peer, script, `script ${i}`)));
      for (const { peer } of runs) peer.ws.close();
    });
  });

  it('close the socket at once when more frames or bytes wait than the bounds allow', async () => {
    const maxQueued = 5;
    const maxFrameBytes = 2048;
    await withHost({ HEARTH_REALTIME_MAX_QUEUED_FRAMES: String(maxQueued), HEARTH_REALTIME_MAX_FRAME_BYTES: String(maxFrameBytes) }, async (host) => {
      // Cases: n frames of a given size after Hello, from few small ones to many or large ones.
      const cases: Array<{ frames: number; channels: number }> = [];
      for (let frames = 0; frames <= maxQueued + 3; frames++) for (const channels of [1, 12, 24, 40]) cases.push({ frames, channels });
      const subscribe = (channels: number, id: bigint) =>
        create(ClientFrameSchema, {
          id,
          frame: { case: 'subscribe', value: { channels: Array.from({ length: channels }, () => ({ channel: `circle:${randomUUID()}` })) } },
        });
      issuer.hold();
      let runs: Array<{ peer: Peer; overflowAt: number | undefined }>;
      try {
        runs = await Promise.all(
          cases.map(async ({ frames, channels }) => {
            const peer = await connect(host.url);
            send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token() } }, 1n);
            let count = 0;
            let bytes = 0;
            let overflowAt: number | undefined;
            for (let i = 0; i < frames; i++) {
              const data = toBinary(ClientFrameSchema, subscribe(channels, BigInt(i + 2)));
              assert.ok(data.length <= maxFrameBytes, 'each frame alone is within max_frame_bytes');
              count++;
              bytes += data.length;
              if (overflowAt === undefined && (count > maxQueued || bytes > maxFrameBytes)) overflowAt = i;
              peer.ws.send(data);
            }
            return { peer, overflowAt };
          }),
        );
        for (const [i, { peer, overflowAt }] of runs.entries()) {
          const what = `case ${JSON.stringify(cases[i])}`;
          if (overflowAt === undefined) continue;
          // Refused before authentication finished: no Welcome, the reason at once.
          const first = await peer.next();
          assert.equal(describeFrame(first), 'INVALID_FRAME reply_to=0 closing', what);
          assert.match(first.frame.case === 'error' ? first.frame.value.message : '', /ahead of the gateway's answers/, what);
          assert.equal((await closedWithin(peer, 1_000)).code, 4000 + ErrorCode.INVALID_FRAME, what);
        }
        assert.ok(runs.some((r) => r.overflowAt !== undefined) && runs.some((r) => r.overflowAt === undefined));
      } finally {
        issuer.release();
      }
      for (const [i, { peer, overflowAt }] of runs.entries()) {
        if (overflowAt !== undefined) continue;
        const what = `case ${JSON.stringify(cases[i])}`;
        assert.equal(describeFrame(await peer.next()), 'welcome reply_to=1', what);
        if (cases[i]?.frames === 0) {
          await assertOpen(peer, 1n);
          peer.ws.close();
          continue;
        }
        // This host has no circle service: the first Subscribe is answered, in its turn, and closes.
        assert.equal(describeFrame(await peer.next()), 'INTERNAL reply_to=2 closing', what);
        assert.equal((await closedWithin(peer, 1_000)).code, 4000 + ErrorCode.INTERNAL, what);
      }
    });
  });

  it('close a socket whose Hello is not authenticated within the Hello timeout with INTERNAL, and never a welcomed one', async () => {
    await withHost({ HEARTH_REALTIME_HELLO_TIMEOUT_MS: '300' }, async (host) => {
      issuer.hold();
      try {
        const peer = await connect(host.url);
        send(peer.ws, { case: 'hello', value: { protocolVersion: 1, accessToken: issuer.token() } }, 1n);
        send(peer.ws, { case: 'ping', value: { nonce: 1n } }, 2n);
        assert.equal(describeFrame(await peer.next()), 'INTERNAL reply_to=0 closing');
        assert.equal((await closedWithin(peer, 1_000)).code, 4000 + ErrorCode.INTERNAL);
      } finally {
        issuer.release();
      }
      // Once welcomed, the timeout no longer applies.
      const peer = await welcomed(host.url, issuer.token());
      await sleep(600);
      await assertOpen(peer, 1n);
      peer.ws.close();
    });
  });
});
