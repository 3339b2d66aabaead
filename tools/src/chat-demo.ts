// `npm run demo:chat [-- --url <origin>]`: two people chat through the SDK against a running
// Hearth (default http://127.0.0.1:8080, or HEARTH_URL). Birch follows the circle over the
// realtime socket, drops the connection, ash sends 50 messages meanwhile, and when birch comes
// back every one of them shows once, in order. Ash sends through the SDK's ChatOutbox: a send
// that hits the per-person rate limit waits for its retry-after and is retried under the same
// client_message_id (so, with the default 30 a minute, the 50 take about a minute). tools/test/chat-demo.test.ts
// runs it against a fresh system.
import { Code, ConnectError } from '@connectrpc/connect';
import { ChatOutbox, RealtimeClient, TokenStore, createHearthClient } from '@hearth/client';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility, type Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

export interface ChatDemoOptions {
  readonly baseUrl: string;
  readonly print?: (line: string) => void;
  /** How many messages ash sends while birch is away. */
  readonly count?: number;
}

export interface ChatDemoResult {
  readonly circleId: string;
  /** What birch's app showed after reconnecting, in the order shown. */
  readonly shown: readonly Message[];
  /** The ids ash's sends were acknowledged with, in order. */
  readonly acked: readonly string[];
}

const PASSWORD = 'lantern orbit velvet cactus 42';

export async function runChatDemo(opts: ChatDemoOptions): Promise<ChatDemoResult> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const count = opts.count ?? 50;
  const run = randomBytes(3).toString('hex');
  let n = 0;
  const step = (text: string) => print(`${String(++n).padStart(2)}. ${text}`);
  print(`Hearth chat demo against ${opts.baseUrl} (run ${run})`);

  const signUp = async (name: string) => {
    const tokens = new TokenStore();
    const client = createHearthClient({ baseUrl: opts.baseUrl, tokens });
    const { tokens: t } = await client.auth.register({
      email: `${name}.${run}@example.org`,
      password: PASSWORD,
      handle: `${name}_${run}`,
      displayName: name,
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `chat-demo-${randomUUID()}`,
    });
    step(`${name} signed up (user ${t?.userId})`);
    return { name, client, tokens };
  };
  const ash = await signUp('ash');
  const birch = await signUp('birch');

  const { circle } = await ash.client.circle.createCircle({ name: 'Night owls', visibility: CircleVisibility.PUBLIC, idempotencyKey: `chat-demo-${run}` });
  const circleId = circle!.id;
  await birch.client.circle.joinCircle({ target: { case: 'circleId', value: circleId } });
  step(`ash made a circle and birch joined it (${circleId})`);

  const { lastSeq: start } = await birch.client.chat.listMessages({ circleId, pageSize: 1 });
  const shown: Message[] = [];
  let opened = 0;
  let waitOpen: () => void = () => undefined;
  const connected = () => new Promise<void>((resolve) => (waitOpen = resolve));
  const rt = new RealtimeClient({
    baseUrl: opts.baseUrl,
    accessToken: () => birch.client.accessToken(),
    chat: birch.client.chat,
    onStatus: (s) => {
      if (s.state === 'open') {
        opened++;
        waitOpen();
      }
    },
  });
  rt.follow(circleId, start, { onMessage: (m) => shown.push(m) });
  let up = connected();
  rt.start();
  await up;
  step(`birch's app is connected and follows the circle from seq ${start}`);

  // Ash's app sends through the SDK's outbox: pending at once, retried under the same
  // client_message_id past the send limit (after its retry-after) or a lost answer.
  let waited = 0;
  const outbox = new ChatOutbox(ash.client.chat, {
    sleep: (ms) => {
      waited += ms;
      return new Promise((r) => setTimeout(r, ms));
    },
  });
  const send = async (body: string) => {
    const o = await outbox.settled(outbox.send(circleId, body));
    if (o.state !== 'sent' || !o.message) throw o.error ?? new Error(`"${body}" was not sent`);
    return o.message;
  };
  await send('hello birch, are you around?');
  await until(() => shown.length === 1, 'the first message', 10_000);
  step(`birch saw "${shown[0]!.body}" live (seq ${shown[0]!.seq})`);

  rt.close();
  step("birch's connection dropped");

  const acked: string[] = [];
  waited = 0;
  for (let i = 1; i <= count; i++) acked.push((await send(`message ${i} of ${count}`)).id);
  step(`ash sent ${count} messages while birch was away${waited > 0 ? ` (waited ${Math.round(waited / 1000)} s for the rate limit, then retried with the same ids)` : ''}`);

  up = connected();
  rt.start();
  await up;
  await until(() => shown.length === count + 1, `all ${count} messages`, 30_000);
  rt.close();
  const got = shown.slice(1);
  const inOrder = got.every((m, i) => m.id === acked[i] && m.seq === shown[0]!.seq + BigInt(i + 1));
  const unique = new Set(got.map((m) => m.id)).size === got.length;
  if (!inOrder || !unique || got.length !== count) throw new Error(`birch's app shows ${got.length} messages, in order: ${inOrder}, once each: ${unique}`);
  step(`birch reconnected (connection ${opened}) and shows all ${count}, once each, in order (seq ${got[0]!.seq} to ${got.at(-1)!.seq})`);
  print('done: every message arrived once, in order, after the dropped connection');
  return { circleId, shown, acked };
}

async function until(pred: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (import.meta.main) {
  let baseUrl = process.env.HEARTH_URL ?? 'http://127.0.0.1:8080';
  const main = async (): Promise<void> => {
    const { values } = parseArgs({ options: { url: { type: 'string' } } });
    baseUrl = values.url ?? baseUrl;
    await runChatDemo({ baseUrl });
  };
  main().catch((err: unknown) => {
    const e = err instanceof ConnectError ? `[${Code[err.code]}] ${err.rawMessage}` : err instanceof Error ? err.message : String(err);
    const unreachable = /ECONNREFUSED|fetch failed/.test(e);
    process.stderr.write(unreachable ? `demo:chat: cannot reach ${baseUrl}; is Hearth running? Start it with \`npm run dev\`\n` : `demo:chat: ${e}\n`);
    process.exitCode = 1;
  });
}
