/**
 * Chat throughput and delivery latency: `npm run -w tools bench:chat [-- --write]`.
 *
 * One child process serves the whole of Hearth in monolith mode (chat-server.ts, the dev
 * loader, Redis configured), seeded with `--circles` circles of `--members` members. This
 * process is the load generator: one WebSocket per member, subscribed to its circle, and one
 * sender per circle calling ChatService.SendMessage over keep-alive HTTP/1.1 at a fixed rate
 * (open loop), stepping the total rate up through `--rates`. Each message carries its send
 * time; a receiver's delivery latency is its arrival time minus that (one clock, one process).
 * Every step checks that each acknowledged message reached every member of its circle exactly
 * once. CPU is read per process: the server (its own cpuUsage), this generator, and every
 * postgres and redis-server process (from /proc). Not a test: nothing asserts a speed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { ClientFrameSchema, ServerFrameSchema } from '@hearth/contracts/gen/hearth/realtime/v1/realtime_pb.js';
import { createTestDatabase, createTestRedis, repoRoot } from '@hearth/testkit';
import { WebSocket } from 'ws';
import type { ChatBenchCircle, ChatServerMessage } from './chat-server.js';
import { benchServerEnv, cpuOf, percentile } from './measure.js';
import { wrap, writeSection } from './report.js';

const { values: args } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    circles: { type: 'string', default: '50' },
    members: { type: 'string', default: '10' },
    rates: { type: 'string', default: '100,200,400,800,1200' },
    seconds: { type: 'string', default: '8' },
    // Saves a CPU profile of the server during the step at this rate.
    'profile-rate': { type: 'string' },
    // Before the rates: this many more sockets, idle and subscribed, and the server's memory growth.
    'idle-sockets': { type: 'string', default: '0' },
    // Runs the compiled server (npm run build first), as production does.
    dist: { type: 'boolean', default: false },
  },
});
if (args.dist && !import.meta.url.endsWith('.js')) {
  throw new Error('--dist runs the compiled benchmark: npm run build, then npm run -w tools bench:chat:dist');
}
const loader = args.dist ? 'compiled output (npm run build)' : 'dev loader';
const circlesN = Number(args.circles);
const membersN = Number(args.members);
const rates = (args.rates ?? '').split(',').map(Number);
const seconds = Number(args.seconds);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Step {
  readonly rate: number;
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly msgPerSec: number;
  readonly deliveriesPerSec: number;
  readonly sendP50: number;
  readonly sendP99: number;
  readonly deliverP50: number;
  readonly deliverP99: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly cores: { readonly server: number; readonly generator: number; readonly postgres: number; readonly redis: number };
}

const testDb = await createTestDatabase({ prefix: 'bench_chat' });
const testRedis = await createTestRedis();
const child: ChildProcess = fork(fileURLToPath(new URL(args.dist ? 'chat-server.js' : 'chat-server.ts', import.meta.url)), [], {
  env: {
    ...process.env,
    ...benchServerEnv(testDb.url, testRedis.url),
    // The generator is one address sending for every sender: lift the per-person abuse limits
    // and the per-address socket caps that would otherwise (rightly) stop it.
    HEARTH_CIRCLE_SENDS_PER_MINUTE: '10000',
    HEARTH_REALTIME_MAX_UNAUTHENTICATED_PER_ADDRESS: '100000',
    HEARTH_REALTIME_MAX_UNAUTHENTICATED: '100000',
    HEARTH_REALTIME_MAX_CONNECTIONS_PER_USER: '1000',
    BENCH_CIRCLES: String(circlesN),
    BENCH_MEMBERS: String(membersN),
  },
  execArgv: args.dist ? ['--expose-gc'] : ['--conditions=@hearth/source', '--import', 'tsx', '--expose-gc'],
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const waiting = new Map<string, (m: ChatServerMessage) => void>();
child.on('message', (m: ChatServerMessage) => waiting.get(m.kind)?.(m));
const ask = <K extends ChatServerMessage['kind']>(kind: K, send?: object): Promise<Extract<ChatServerMessage, { kind: K }>> =>
  new Promise((resolve) => {
    waiting.set(kind, resolve as (m: ChatServerMessage) => void);
    if (send) child.send(send);
  });

try {
  const loadBefore = loadavg()[0] ?? 0;
  const ready = await ask('ready');
  log(`serving on ${ready.url}; ${ready.circles.length} circles of ${membersN}`);

  // Receivers: every member's socket, counting each message it gets.
  const got = new Map<string, number>(); // message id -> deliveries
  const deliverMs: number[] = [];
  let measuring = false;
  const sockets: WebSocket[] = [];
  const open = (circle: ChatBenchCircle, token: string) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${ready.url.replace('http', 'ws')}/v1/realtime`, 'hearth.realtime.v1');
      ws.on('open', () =>
        ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { id: 1n, frame: { case: 'hello', value: { protocolVersion: 1, accessToken: token, resume: [{ channel: `circle:${circle.id}` }] } } }))),
      );
      ws.on('message', (data: Buffer) => {
        const f = fromBinary(ServerFrameSchema, data);
        if (f.frame.case === 'subscribed') resolve();
        if (f.frame.case === 'error') reject(new Error(f.frame.value.message));
        if (f.frame.case === 'event' && f.frame.value.payload.case === 'messageCreated') {
          const m = f.frame.value.payload.value;
          got.set(m.id, (got.get(m.id) ?? 0) + 1);
          const sentAt = Number(/^t=(\d+(?:\.\d+)?)/.exec(m.body)?.[1]);
          if (measuring && Number.isFinite(sentAt)) deliverMs.push(performance.timeOrigin + performance.now() - sentAt);
        }
      });
      ws.on('error', reject);
      sockets.push(ws);
    });
  for (const c of ready.circles) await Promise.all(c.members.map((m) => open(c, m.token)));
  log(`${sockets.length} sockets subscribed`);

  const transport = createConnectTransport({ baseUrl: ready.url, httpVersion: '1.1', useBinaryFormat: true });
  const chat = createClient(ChatService, transport);
  const steps: Step[] = [];
  // Idle sockets, first (the baseline is then the seeded server, not what a load step left in
  // the allocator): each member opens more sockets, subscribed to its circle, and stays quiet.
  const idleN = Number(args['idle-sockets']);
  let idle: { sockets: number; before: number; after: number; heapBefore: number; heapAfter: number } | undefined;
  if (idleN > 0) {
    await new Promise((r) => setTimeout(r, 2_000));
    const before = await ask('mem', { kind: 'mem' });
    if (process.env.BENCH_HEAP) await ask('profiling', { kind: 'heap-start' });
    const members = ready.circles.flatMap((c) => c.members.map((m) => ({ c, token: m.token })));
    const idleSockets: WebSocket[] = [];
    for (let i = 0; i < idleN; i += 200) {
      const batch = Array.from({ length: Math.min(200, idleN - i) }, (_, k) => members[(i + k) % members.length]!);
      await Promise.all(
        batch.map(
          ({ c, token }) =>
            new Promise<void>((resolve, reject) => {
              // Spread over loopback source addresses, as many clients would be.
              const n = idleSockets.length;
              const ws = new WebSocket(`${ready.url.replace('http', 'ws')}/v1/realtime`, 'hearth.realtime.v1', { localAddress: `127.0.${1 + ((n >> 8) & 0xff)}.${1 + (n & 0xfe)}` });
              idleSockets.push(ws);
              ws.on('open', () =>
                ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { id: 1n, frame: { case: 'hello', value: { protocolVersion: 1, accessToken: token, resume: [{ channel: `circle:${c.id}` }] } } }))),
              );
              ws.on('message', (data: Buffer) => {
                const f = fromBinary(ServerFrameSchema, data);
                if (f.frame.case === 'subscribed') resolve();
                if (f.frame.case === 'error') reject(new Error(f.frame.value.message));
              });
              ws.on('error', reject);
            }),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 5_000));
    if (process.env.BENCH_HEAP) {
      const file = join(repoRoot(), '.hearth', 'bench', `chat-idle-${Date.now()}.heapprofile`);
      await ask('profiled', { kind: 'heap-stop', file });
      log(`server heap sampling profile (live at the end): ${file}`);
    }
    const after = await ask('mem', { kind: 'mem' });
    idle = { sockets: idleSockets.length, before: before.rss, after: after.rss, heapBefore: before.heapUsed, heapAfter: after.heapUsed };
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    log(`idle: heap reserved ${mib(before.heapTotal)} -> ${mib(after.heapTotal)} MiB, external ${mib(before.external)} -> ${mib(after.external)} MiB`);
    log(`idle: ${idle.sockets} sockets, server RSS ${(before.rss / 2 ** 20).toFixed(0)} -> ${(after.rss / 2 ** 20).toFixed(0)} MiB (${((after.rss - before.rss) / idle.sockets / 1024).toFixed(1)} KiB per socket), heap ${(before.heapUsed / 2 ** 20).toFixed(0)} -> ${(after.heapUsed / 2 ** 20).toFixed(0)} MiB`);
    for (const ws of idleSockets) ws.terminate();
  }

  for (const rate of rates) {
    got.clear();
    deliverMs.length = 0;
    const acked = new Set<string>();
    const sendMs: number[] = [];
    let sent = 0;
    let failed = 0;
    const perCircleMs = (1000 * ready.circles.length) / rate;
    const run = async (ms: number, measure: boolean) => {
      measuring = measure;
      const end = performance.now() + ms;
      const inflight: Array<Promise<void>> = [];
      await Promise.all(
        ready.circles.map(async (c, i) => {
          const sender = c.members[0]!;
          let next = performance.now() + (perCircleMs * i) / ready.circles.length;
          while (next < end) {
            const wait = next - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            next += perCircleMs;
            const t0 = performance.now();
            const body = `t=${performance.timeOrigin + t0} ${randomUUID()}`;
            if (measure) sent++;
            inflight.push(
              chat.sendMessage({ circleId: c.id, clientMessageId: randomUUID(), body }, { headers: { authorization: `Bearer ${sender.token}` } }).then(
                (r) => {
                  if (!measure) return;
                  sendMs.push(performance.now() - t0);
                  acked.add(r.message!.id);
                },
                () => {
                  if (measure) failed++;
                },
              ),
            );
          }
        }),
      );
      await Promise.all(inflight);
    };
    await run(1_500, false);
    const profiling = args['profile-rate'] !== undefined && Number(args['profile-rate']) === rate;
    if (profiling) await ask('profiling', { kind: 'profile-start' });
    const cpu0 = { server: (await ask('cpu', { kind: 'cpu' })).micros, gen: process.cpuUsage(), pg: await cpuOf('postgres'), redis: await cpuOf('redis-server'), at: performance.now() };
    await run(seconds * 1000, true);
    const wall = (performance.now() - cpu0.at) / 1000;
    const cpu1 = { server: (await ask('cpu', { kind: 'cpu' })).micros, gen: process.cpuUsage(cpu0.gen), pg: await cpuOf('postgres'), redis: await cpuOf('redis-server') };
    if (profiling) {
      const file = join(repoRoot(), '.hearth', 'bench', `chat-${rate}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      await ask('profiled', { kind: 'profile-stop', file });
      log(`server profile at ${rate} msg/s: ${file}`);
    }
    // Let deliveries drain, then count them.
    await new Promise((r) => setTimeout(r, 2_000));
    let lost = 0;
    let duplicates = 0;
    for (const id of acked) {
      const n = got.get(id) ?? 0;
      if (n < membersN) lost += membersN - n;
      if (n > membersN) duplicates += n - membersN;
    }
    sendMs.sort((a, b) => a - b);
    deliverMs.sort((a, b) => a - b);
    const step: Step = {
      rate,
      sent,
      acked: acked.size,
      failed,
      msgPerSec: acked.size / wall,
      deliveriesPerSec: (acked.size * membersN - lost) / wall,
      sendP50: percentile(sendMs, 50),
      sendP99: percentile(sendMs, 99),
      deliverP50: percentile(deliverMs, 50),
      deliverP99: percentile(deliverMs, 99),
      lost,
      duplicates,
      cores: {
        server: (cpu1.server - cpu0.server) / 1e6 / wall,
        generator: (cpu1.gen.user + cpu1.gen.system) / 1e6 / wall,
        postgres: (cpu1.pg - cpu0.pg) / wall,
        redis: (cpu1.redis - cpu0.redis) / wall,
      },
    };
    steps.push(step);
    log(
      `rate ${rate}: ${step.msgPerSec.toFixed(0)} msg/s, send p50/p99 ${step.sendP50.toFixed(1)}/${step.sendP99.toFixed(1)} ms, deliver p50/p99 ${step.deliverP50.toFixed(1)}/${step.deliverP99.toFixed(1)} ms, lost ${lost}, dup ${duplicates}, failed ${failed}`,
    );
    if (step.msgPerSec < 0.9 * rate || step.deliverP99 > 1_000) {
      log('past the knee: stopping');
      break;
    }
  }
  for (const ws of sockets) ws.close();

  const lines = [
    '## Chat: messages through SendMessage and the realtime gateway',
    '',
    wrap(
      `Measured on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; ` +
        `Node ${ready.node}; PostgreSQL and Redis on loopback; 1-minute load average ${loadBefore.toFixed(2)} before the run. One child process serves the whole of Hearth ` +
        `in monolith mode through the ${loader} (Redis configured); the benchmark process is the load generator on the same machine: ${circlesN} circles of ${membersN} members, ` +
        `one WebSocket per member (${circlesN * membersN} sockets) subscribed to its circle, and one sender per circle calling SendMessage over keep-alive HTTP/1.1 (binary protobuf) ` +
        `at a fixed total rate (open loop), ${seconds} s per step after a 1.5 s warm-up. Every message goes to every member of its circle, its sender included. ` +
        'Delivery latency is from the start of the SendMessage call to the message’s arrival on a socket; lost counts deliveries missing 2 s after the step, duplicates the extra ones. ' +
        'CPU is cores used over the step: the server process, the generator, all postgres processes and redis-server. One run (a step is thousands of messages); compare with care.',
    ),
    '',
    '| target msg/s | msg/s | deliveries/s | send p50 / p99 ms | delivery p50 / p99 ms | lost | duplicates | failed | cores: server / generator / postgres / redis |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...steps.map(
      (s) =>
        `| ${s.rate} | ${s.msgPerSec.toFixed(0)} | ${s.deliveriesPerSec.toFixed(0)} | ${s.sendP50.toFixed(1)} / ${s.sendP99.toFixed(1)} | ${s.deliverP50.toFixed(1)} / ${s.deliverP99.toFixed(1)} | ${s.lost} | ${s.duplicates} | ${s.failed} | ${s.cores.server.toFixed(2)} / ${s.cores.generator.toFixed(2)} / ${s.cores.postgres.toFixed(2)} / ${s.cores.redis.toFixed(2)} |`,
    ),
    ...(idle
      ? [
          '',
          wrap(
            `Idle sockets: ${idle.sockets} more sockets (${membersN * circlesN} people, each with several), each welcomed and subscribed to its circle, then quiet for 5 s (measured before the message steps, on the seeded server with its 500 sockets). ` +
              `The server's RSS went from ${(idle.before / 2 ** 20).toFixed(0)} to ${(idle.after / 2 ** 20).toFixed(0)} MiB after a full GC: ` +
              `**${((idle.after - idle.before) / 2 ** 20).toFixed(0)} MiB, ${((idle.after - idle.before) / idle.sockets / 1024).toFixed(1)} KiB per socket** ` +
              `(heap ${(idle.heapBefore / 2 ** 20).toFixed(0)} to ${(idle.heapAfter / 2 ** 20).toFixed(0)} MiB).`,
          ),
        ]
      : []),
  ];
  const section = lines.join('\n');
  process.stdout.write(`${section}\n`);
  if (args.write) {
    const file = join(repoRoot(), 'docs', 'benchmarks.md');
    await writeSection(file, 'chat', section);
    log(`updated ${file}`);
  }
} finally {
  child.send({ kind: 'stop' });
  await new Promise((r) => child.once('exit', r));
  await testRedis.flush().catch(() => undefined);
  await testRedis.close();
  await testDb.drop();
}
