// `npm run -w tools chat:faults [-- --seconds 60 --gateways 3 --clients 30]`: chat under faults.
// auth, user and circle run in this process on a PostgreSQL and a Redis the run starts itself;
// `--gateways` realtime gateways run as processes of their own (services/realtime/src/main.ts,
// as Helm runs them). `--clients` SDK clients (RealtimeClient, spread over the gateways) follow
// their circles while one sender per circle sends through ChatOutbox. Meanwhile a gateway is
// killed (SIGKILL) every few seconds and restarted, Redis is killed and restarted once, and
// Postgres is stopped and started once. At the end every client must hold exactly the
// acknowledged messages of its circle, in seq order, none twice. tools/test/chat-faults.test.ts
// runs a short form in CI.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatOutbox, type HearthClient, RealtimeClient, createHearthClient } from '@hearth/client';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { ConfigSpec } from '@hearth/config';
import { type ServiceDefinition, startHost } from '@hearth/platform';
import { type EmbeddedPostgres, freePort, repoRoot, startEmbeddedPostgres } from '@hearth/testkit';
import { Seed, connectClients, definitions } from '@hearth/testkit/system';
import { loadSystem } from './system.js';

export interface FaultOptions {
  readonly seconds: number;
  readonly gateways: number;
  readonly clients: number;
  /** Members per circle (each a client); the first one of each circle also sends. */
  readonly perCircle?: number;
  /** Messages per second per sender. */
  readonly rate?: number;
  readonly log?: (line: string) => void;
}

export interface FaultCounts {
  readonly sent: number;
  readonly acked: number;
  readonly retried: number;
  readonly failed: number;
  readonly delivered: number;
  readonly duplicatesDropped: number;
  readonly gapsFilled: number;
  readonly lost: number;
  readonly outOfOrder: number;
  readonly gatewayKills: number;
  readonly redisRestarts: number;
  readonly postgresRestarts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health/ready`)).ok;
  } catch {
    return false;
  }
}

export async function runChatFaults(opts: FaultOptions): Promise<FaultCounts> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const perCircle = opts.perCircle ?? 6;
  const rate = opts.rate ?? 4;
  const work = await mkdtemp(join(tmpdir(), 'hearth-faults-'));
  // PostgreSQL runs as its own user when we are root: it must be able to enter the directory.
  await chmod(work, 0o755);
  const children = new Set<ChildProcess>();
  let pg: EmbeddedPostgres | undefined;
  let core: Awaited<ReturnType<typeof startHost>> | undefined;
  const realtimes: RealtimeClient[] = [];
  try {
    // Servers of its own, so restarting them touches nothing else on the machine.
    const pgPort = await freePort();
    const startPg = () => startEmbeddedPostgres({ dataDir: join(work, 'pg'), port: pgPort, database: 'hearth', onOtherMajor: 'recreate', settings: { fsync: 'off' } });
    pg = await startPg();
    const redisPort = await freePort();
    let redis: ChildProcess | undefined;
    const startRedis = async () => {
      const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      children.add(child);
      child.on('exit', () => children.delete(child));
      redis = child;
      await sleep(300);
    };
    await startRedis();

    const env: Record<string, string> = {
      DATABASE_URL: pg.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      HEARTH_LOG_LEVEL: 'silent',
      HEARTH_DRAIN_DELAY_MS: '0',
      HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      HEARTH_INTERNAL_SECRET: randomBytes(32).toString('base64url'),
      HEARTH_CIRCLE_MESSAGE_KEYS: `f1:${randomBytes(32).toString('base64')}`,
      HEARTH_POST_BODY_KEYS: `f1:${randomBytes(32).toString('base64')}`,
      HEARTH_SUPPORT_PLAN_KEYS: `f1:${randomBytes(32).toString('base64')}`,
      HEARTH_CIRCLE_SENDS_PER_MINUTE: '10000',
      HEARTH_REALTIME_MAX_UNAUTHENTICATED_PER_ADDRESS: '10000',
    };
    const corePort = await freePort();
    const coreServices = ['auth', 'user', 'circle'].map((n) => definitions[n as 'auth'] as unknown as ServiceDefinition<ConfigSpec, never>);
    const { shared, services } = loadSystem({ ...env, HEARTH_PORT: String(corePort) }, coreServices);
    core = await startHost({ name: 'core', config: shared, services });
    const coreUrl = core.url;

    // The gateways: the realtime service alone, as its own main.ts runs it.
    const gatewayPorts = await Promise.all(Array.from({ length: opts.gateways }, () => freePort()));
    const gateways: Array<ChildProcess | undefined> = [];
    const startGateway = async (i: number) => {
      const child = spawn(process.execPath, ['--conditions=@hearth/source', '--import', 'tsx', 'services/realtime/src/main.ts'], {
        cwd: repoRoot(),
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          HEARTH_PORT: String(gatewayPorts[i]),
          HEARTH_AUTH_JWKS_URL: `${coreUrl}/.well-known/jwks.json`,
          HEARTH_SERVICE_URLS: `auth=${coreUrl},user=${coreUrl},circle=${coreUrl}`,
        },
        stdio: 'ignore',
      });
      children.add(child);
      child.on('exit', () => children.delete(child));
      gateways[i] = child;
      await waitFor(() => ready(`http://127.0.0.1:${gatewayPorts[i]}`), `gateway ${i}`, 30_000);
    };
    await Promise.all(Array.from({ length: opts.gateways }, (_, i) => startGateway(i)));
    log(`core on ${coreUrl}, ${opts.gateways} gateways, Postgres :${pgPort}, Redis :${redisPort}`);

    // Circles and members; every member is a client on one of the gateways.
    const seed = new Seed({ clients: connectClients(coreUrl), runtime: core.runtime, auth: core.modules.find((m) => m.name === 'auth') as never });
    const circles: Array<{ id: string; senderSdk: HearthClient; members: Array<{ sdk: HearthClient; shown: Message[]; rt: RealtimeClient; feedStats: () => { duplicatesDropped: number; filled: number } }> }> = [];
    const circleCount = Math.ceil(opts.clients / perCircle);
    let n = 0;
    for (let c = 0; c < circleCount; c++) {
      const owner = await seed.person({ name: 'owner' });
      const ownerSdk = createHearthClient({ baseUrl: coreUrl, getAccessToken: () => owner.accessToken });
      const { circle } = await ownerSdk.circle.createCircle({ name: `Faults ${c}`, visibility: CircleVisibility.PUBLIC, idempotencyKey: `f-${randomUUID()}` });
      const members = [];
      for (let m = 0; m < perCircle && n < opts.clients; m++, n++) {
        const p = m === 0 ? owner : await seed.person({ name: `m${m}` });
        const sdk = m === 0 ? ownerSdk : createHearthClient({ baseUrl: coreUrl, getAccessToken: () => p.accessToken });
        if (m > 0) await sdk.circle.joinCircle({ target: { case: 'circleId', value: circle!.id } });
        members.push({ sdk, p });
      }
      const { lastSeq } = await ownerSdk.chat.listMessages({ circleId: circle!.id, pageSize: 1 });
      const followers = members.map(({ sdk, p }, i) => {
        const shown: Message[] = [];
        const rt = new RealtimeClient({
          baseUrl: `http://127.0.0.1:${gatewayPorts[(c * perCircle + i) % opts.gateways]}`,
          accessToken: () => p.accessToken,
          chat: sdk.chat,
          backoff: { initialMs: 100, maxMs: 1_000 },
        });
        const feed = rt.follow(circle!.id, lastSeq, { onMessage: (msg) => shown.push(msg) });
        rt.start();
        realtimes.push(rt);
        return { sdk, shown, rt, feedStats: () => feed.stats };
      });
      circles.push({ id: circle!.id, senderSdk: ownerSdk, members: followers });
    }
    log(`${circles.length} circles, ${n} clients following`);

    // Senders through the outbox, until told to stop.
    let sending = true;
    const outboxes = circles.map((c) => new ChatOutbox(c.senderSdk.chat, { maxAttempts: 1_000, initialBackoffMs: 100 }));
    const outgoing = circles.map(() => [] as Array<ReturnType<ChatOutbox['send']>>);
    const senders = circles.map(async (c, i) => {
      let k = 0;
      while (sending) {
        outgoing[i]!.push(outboxes[i]!.send(c.id, `message ${k++} of circle ${i}`));
        await sleep(1000 / rate);
      }
    });

    // The faults.
    let gatewayKills = 0;
    let redisRestarts = 0;
    let postgresRestarts = 0;
    const started = Date.now();
    const until = started + opts.seconds * 1000;
    let redisDone = false;
    let pgDone = false;
    while (Date.now() < until) {
      await sleep(3_000);
      const i = gatewayKills % opts.gateways;
      gateways[i]?.kill('SIGKILL');
      gatewayKills++;
      await sleep(700);
      await startGateway(i);
      const elapsed = (Date.now() - started) / (opts.seconds * 1000);
      if (!redisDone && elapsed > 0.33) {
        redis?.kill('SIGKILL');
        await sleep(1_000);
        await startRedis();
        redisRestarts++;
        redisDone = true;
        log('Redis restarted');
      } else if (!pgDone && elapsed > 0.6) {
        await pg.stop();
        await sleep(1_000);
        pg = await startPg();
        postgresRestarts++;
        pgDone = true;
        log('Postgres restarted');
      }
    }
    sending = false;
    await Promise.all(senders);
    // Every message settles: stored (acknowledged) or given up on.
    await waitFor(() => outgoing.flat().every((o) => o.state !== 'pending'), 'the outboxes', 60_000);
    // One more message per circle, so live delivery reaches every socket after the faults.
    for (const [i, c] of circles.entries()) await outboxes[i]!.settled(outboxes[i]!.send(c.id, 'the end'));

    // Every client must show exactly its circle's messages from the start, in order, once.
    let lost = 0;
    let outOfOrder = 0;
    for (const c of circles) {
      const all: Message[] = [];
      const first = c.members[0]!;
      for (let after = first.shown[0] ? first.shown[0].seq - 1n : 0n; ; ) {
        const page = await c.senderSdk.chat.listMessages({ circleId: c.id, position: { case: 'afterSeq', value: after }, pageSize: 100 });
        all.push(...page.messages);
        if (!page.hasMore || page.messages.length === 0) break;
        after = page.messages.at(-1)!.seq;
      }
      const head = all.at(-1)?.seq ?? 0n;
      await waitFor(() => c.members.every((m) => (m.shown.at(-1)?.seq ?? 0n) >= head), 'every client to reach the head', 60_000).catch((err: Error) => log(err.message));
      for (const m of c.members) {
        const want = all.filter((x) => x.seq > (m.shown[0]?.seq ?? 1n) - 1n).map((x) => x.id);
        const got = m.shown.map((x) => x.id);
        const missing = want.filter((id) => !got.includes(id));
        lost += missing.length;
        for (let k = 1; k < m.shown.length; k++) if (m.shown[k]!.seq !== m.shown[k - 1]!.seq + 1n) outOfOrder++;
      }
    }
    const flat = outgoing.flat();
    const counts: FaultCounts = {
      sent: flat.length + circles.length,
      acked: flat.filter((o) => o.state === 'sent').length + circles.length,
      retried: flat.reduce((sum, o) => sum + Math.max(0, o.attempts - 1), 0),
      failed: flat.filter((o) => o.state === 'failed').length,
      delivered: circles.reduce((sum, c) => sum + c.members.reduce((s, m) => s + m.shown.length, 0), 0),
      duplicatesDropped: circles.reduce((sum, c) => sum + c.members.reduce((s, m) => s + m.feedStats().duplicatesDropped, 0), 0),
      gapsFilled: circles.reduce((sum, c) => sum + c.members.reduce((s, m) => s + m.feedStats().filled, 0), 0),
      lost,
      outOfOrder,
      gatewayKills,
      redisRestarts,
      postgresRestarts,
    };
    log(
      `sent ${counts.sent}, acked ${counts.acked}, retried ${counts.retried}, failed ${counts.failed}, delivered ${counts.delivered}, ` +
        `duplicates dropped ${counts.duplicatesDropped}, gaps filled ${counts.gapsFilled}, out of order ${counts.outOfOrder}, lost ${counts.lost} ` +
        `(${gatewayKills} gateway kills, ${redisRestarts} Redis and ${postgresRestarts} Postgres restarts)`,
    );
    return counts;
  } finally {
    for (const rt of realtimes) rt.close();
    for (const child of children) child.kill('SIGKILL');
    await core?.close().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, gateways: { type: 'string', default: '3' }, clients: { type: 'string', default: '30' } } });
  runChatFaults({ seconds: Number(values.seconds), gateways: Number(values.gateways), clients: Number(values.clients) }).then(
    (c) => {
      process.exitCode = c.lost === 0 && c.outOfOrder === 0 ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`chat:faults: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
