/**
 * The server side of `bench:chat` (see chat.ts), a child process: the whole of Hearth in
 * monolith mode (as `npm run dev` runs it), seeded with circles of members whose access tokens
 * are minted by the auth module (no argon2), reported over IPC with the URL. It answers IPC
 * requests for its CPU time.
 */
import { Seed, connectClients } from '@hearth/testkit/system';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Session } from 'node:inspector/promises';
import { randomUUID } from 'node:crypto';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { startSystem } from '../system.js';

export interface ChatBenchCircle {
  readonly id: string;
  readonly members: ReadonlyArray<{ readonly userId: string; readonly token: string }>;
}

export type ChatServerMessage =
  | { readonly kind: 'ready'; readonly url: string; readonly circles: readonly ChatBenchCircle[]; readonly node: string }
  | { readonly kind: 'cpu'; readonly micros: number; readonly at: number }
  | { readonly kind: 'mem'; readonly rss: number; readonly heapUsed: number; readonly heapTotal: number; readonly external: number }
  | { readonly kind: 'profiling' }
  | { readonly kind: 'profiled'; readonly file: string };

const send = (msg: ChatServerMessage): void => void process.send?.(msg);
const circles = Number(process.env.BENCH_CIRCLES ?? 50);
const perCircle = Number(process.env.BENCH_MEMBERS ?? 10);

const system = await startSystem({ env: { ...process.env } });
const auth = system.modules.find((m) => m.name === 'auth');
const seed = new Seed({ clients: connectClients(system.url), runtime: system.runtime, auth: auth as never });
const clients = connectClients(system.url);

const made: ChatBenchCircle[] = [];
for (let c = 0; c < circles; c++) {
  const owner = await seed.person({ name: 'owner' });
  const { circle } = await clients.circle.createCircle(
    { name: `Bench ${c}`, visibility: CircleVisibility.PUBLIC, idempotencyKey: `bench-${randomUUID()}` },
    owner.call,
  );
  const members = [{ userId: owner.userId, token: owner.accessToken }];
  for (let m = 1; m < perCircle; m++) {
    const p = await seed.person({ name: `m${m}` });
    await clients.circle.joinCircle({ target: { case: 'circleId', value: circle!.id } }, p.call);
    members.push({ userId: p.userId, token: p.accessToken });
  }
  made.push({ id: circle!.id, members });
}

const session = new Session();
session.connect();

process.on('message', (raw) => {
  const req = raw as { kind: string; file?: string };
  if (req.kind === 'profile-start') {
    void (async () => {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
      send({ kind: 'profiling' });
    })();
  } else if (req.kind === 'profile-stop' && req.file) {
    const file = req.file;
    void (async () => {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      send({ kind: 'profiled', file });
    })();
  } else if (req.kind === 'heap-start') {
    void (async () => {
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
      send({ kind: 'profiling' });
    })();
  } else if (req.kind === 'heap-stop' && req.file) {
    const file = req.file;
    void (async () => {
      (globalThis as { gc?: () => void }).gc?.();
      const { profile } = await session.post('HeapProfiler.stopSampling');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      send({ kind: 'profiled', file });
    })();
  } else if (req.kind === 'mem') {
    // After a full collection when the process allows it (--expose-gc), so the figure is what stays.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    send({ kind: 'mem', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external });
  } else if (req.kind === 'cpu') {
    const u = process.cpuUsage();
    send({ kind: 'cpu', micros: u.user + u.system, at: performance.now() });
  } else if (req.kind === 'stop') {
    void system.close().then(() => process.disconnect?.());
  }
});

send({ kind: 'ready', url: system.url, circles: made, node: process.version });
