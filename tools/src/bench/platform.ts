/**
 * What the platform path costs: `npm run -w tools bench:platform [-- --write] [--dist]`.
 *
 * An authenticated GetCircle through the whole host (Fastify, the Connect mount, telemetry,
 * authentication with the deny-list, authorization, protovalidate, the handler and its two
 * indexed lookups) against a bare Fastify route that runs the same two lookups and nothing else,
 * served by the same child process in the same run (platform-server.ts). A closed loop of
 * keep-alive HTTP/1.1 callers in this process drives one target at a time, alternating targets
 * round by round so drift hits both alike; figures are medians of the rounds. A CPU profile of
 * the server under the host load is saved and summarised by where the time goes.
 *
 * `--dist` runs the compiled output (`npm run build` first), as production does; the default is
 * the dev loader (tsx, sources), as `npm run dev` does. Not a test: nothing asserts a speed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestDatabase, createTestRedis, repoRoot } from '@hearth/testkit';
import { type Round, type Spread, percentile, spread } from './measure.js';
import { type ProfileSummary, summariseProfile } from './profile.js';
import { type PlatformBenchReport, renderPlatformSection } from './platform-report.js';
import { writeSection } from './report.js';
import type { ServerReady, ServerRequest } from './platform-server.js';

const { values: args } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    dist: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,8,32' },
    'profile-seconds': { type: 'string', default: '5' },
    // Also profile the bare route (saved next to the host's, not summarised): to diff the two.
    'profile-bare': { type: 'boolean', default: false },
  },
});
const rounds = positive('rounds', args.rounds);
const durationMs = positive('seconds', args.seconds) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const concurrencies = (args.concurrency ?? '').split(',').map((c) => positive('concurrency', c));
const profileMs = positive('profile-seconds', args['profile-seconds']) * 1000;
const mode = args.dist ? 'dist' : 'dev';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const loadBefore = loadavg()[0] ?? 0;
if (loadBefore > 0.5) log(`warning: 1-minute load average is ${loadBefore.toFixed(2)}; other work will skew the figures`);

const root = repoRoot();
const outDir = join(root, '.hearth', 'bench');
await mkdir(outDir, { recursive: true });

const testDb = await createTestDatabase({ prefix: 'bench_platform' });
const testRedis = await createTestRedis();
const server = startServer();
try {
  const ready = await server.ready;
  log(`host ${ready.hostUrl}, bare ${ready.bareUrl} (${mode})`);
  const targets = {
    host: call(ready.hostUrl, '/hearth.circle.v1.CircleService/GetCircle', ready.accessToken, ready.circleId),
    bare: call(ready.bareUrl, '/bare/GetCircle', ready.accessToken, ready.circleId),
  };
  // Both answers must be real circles before anything is timed.
  for (const [name, t] of Object.entries(targets)) {
    const body = await t.once();
    if (!body.includes(ready.circleId)) throw new Error(`${name} did not return the circle: ${body.slice(0, 200)}`);
  }

  const rows: Array<PlatformBenchReport['rows'][number]> = [];
  for (const c of concurrencies) {
    const agentRounds: Record<'host' | 'bare', Round[]> = { host: [], bare: [] };
    for (const name of ['host', 'bare'] as const) if (warmupMs > 0) await runRound(targets[name], c, warmupMs, server);
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so neither always runs on a warmer machine.
      const order = i % 2 === 0 ? (['host', 'bare'] as const) : (['bare', 'host'] as const);
      for (const name of order) {
        const r = await runRound(targets[name], c, durationMs, server);
        agentRounds[name].push(r);
        log(`${name} c=${c} round ${i + 1}/${rounds}: ${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms, server ${r.processCores.toFixed(2)} cores`);
      }
    }
    const host = summary(agentRounds.host);
    const bareS = summary(agentRounds.bare);
    rows.push({ concurrency: c, host, bare: bareS, ratio: host.opsPerSec.median / bareS.opsPerSec.median });
    log(`c=${c}: host/bare = ${(host.opsPerSec.median / bareS.opsPerSec.median).toFixed(2)}`);
  }

  const profileConcurrency = Math.max(...concurrencies.filter((c) => c <= 8), concurrencies[0] ?? 1);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileFile = join(outDir, `platform-${mode}-${stamp}.cpuprofile`);
  log(`profiling the host at c=${profileConcurrency} for ${profileMs / 1000} s`);
  await server.ask({ kind: 'profile-start' }, 'profiling');
  await runRound(targets.host, profileConcurrency, profileMs, server);
  await server.ask({ kind: 'profile-stop', file: profileFile }, 'profiled');
  const profile: ProfileSummary = summariseProfile(JSON.parse(await readFile(profileFile, 'utf8')), root);
  if (args['profile-bare']) {
    const bareFile = profileFile.replace(/\.cpuprofile$/, '-bare.cpuprofile');
    await server.ask({ kind: 'profile-start' }, 'profiling');
    await runRound(targets.bare, profileConcurrency, profileMs, server);
    await server.ask({ kind: 'profile-stop', file: bareFile }, 'profiled');
    log(`bare route's profile: ${bareFile}`);
  }

  const report: PlatformBenchReport = {
    date: new Date().toISOString().slice(0, 10),
    mode,
    machine: { cores: availableParallelism(), memGiB: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model.trim() ?? 'unknown CPU' },
    node: ready.node,
    postgres: ready.postgres,
    poolMax: ready.poolMax,
    loadBefore,
    options: { rounds, durationMs, warmupMs },
    rows,
    profile: { ...profile, file: profileFile.slice(root.length + 1), concurrency: profileConcurrency, seconds: profileMs / 1000 },
  };
  const section = renderPlatformSection(report);
  process.stdout.write(`${section}\n`);
  if (args.write) {
    const file = join(root, 'docs', 'benchmarks.md');
    await writeSection(file, `platform-${mode}`, section);
    log(`updated ${file}`);
  }
} finally {
  await server.stop();
  await testRedis.flush().catch(() => undefined);
  await testRedis.close();
  await testDb.drop();
}

interface Target {
  /** One call; resolves to the response body, rejects on anything but 200. */
  once(agent?: Agent): Promise<string>;
}

/** A JSON POST of `{"circleId": ...}` with the bearer token, as a Connect client sends it. */
function call(base: string, path: string, token: string, circleId: string): Target {
  const url = new URL(path, base);
  const body = JSON.stringify({ circleId });
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    authorization: `Bearer ${token}`,
    'connect-protocol-version': '1',
  };
  return {
    once: (agent) =>
      new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', headers, ...(agent ? { agent } : {}) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200) resolve(text);
            else reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
  };
}

/** A closed loop of `concurrency` callers, each on its own keep-alive connection. */
async function runRound(target: Target, concurrency: number, ms: number, srv: BenchServer): Promise<Round> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const cpu0 = await srv.cpu();
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await target.once(agent);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const cpu1 = await srv.cpu();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    opsPerSec: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    // For this benchmark: the server process's CPU, in cores.
    processCores: (cpu1.micros - cpu0.micros) / 1000 / (cpu1.at - cpu0.at),
    machineCores: Number.NaN,
    eventLoop: Number.NaN,
  };
}

function summary(rs: readonly Round[]): { opsPerSec: Spread; p50: Spread; p99: Spread; serverCores: Spread; opsPerRound: number } {
  return {
    opsPerSec: spread(rs.map((r) => r.opsPerSec)),
    p50: spread(rs.map((r) => r.p50)),
    p99: spread(rs.map((r) => r.p99)),
    serverCores: spread(rs.map((r) => r.processCores)),
    opsPerRound: spread(rs.map((r) => r.ops)).median,
  };
}

interface BenchServer {
  readonly ready: Promise<ServerReady>;
  ask(req: ServerRequest, answer: string): Promise<Record<string, unknown>>;
  cpu(): Promise<{ micros: number; at: number }>;
  stop(): Promise<void>;
}

function startServer(): BenchServer {
  const script = fileURLToPath(new URL(mode === 'dist' ? 'platform-server.js' : 'platform-server.ts', import.meta.url));
  const env = {
    ...process.env,
    DATABASE_URL: testDb.url,
    REDIS_URL: testRedis.url,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'info',
    HEARTH_AUTH_ACCESS_TTL_SEC: '3600',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
    HEARTH_INTERNAL_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
    HEARTH_CIRCLE_MESSAGE_KEYS: `bench:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`,
    HEARTH_POST_BODY_KEYS: `bench:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`,
    HEARTH_SUPPORT_PLAN_KEYS: `bench:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`,
  };
  if (mode === 'dist' && !import.meta.url.endsWith('.js')) {
    throw new Error('--dist runs the compiled benchmark: npm run build, then node tools/dist/src/bench/platform.js --dist');
  }
  const execArgv = mode === 'dist' ? [] : ['--conditions=@hearth/source', '--import', 'tsx'];
  const child: ChildProcess = fork(script, [], { env, execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiters = new Map<string, Array<(msg: Record<string, unknown>) => void>>();
  child.on('message', (raw) => {
    const msg = raw as Record<string, unknown>;
    const list = waiters.get(String(msg.kind));
    list?.shift()?.(msg);
  });
  const waitFor = (kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const list = waiters.get(kind) ?? [];
      list.push(resolve);
      waiters.set(kind, list);
      child.once('exit', (code) => reject(new Error(`bench server exited (${code}) while waiting for ${kind}`)));
    });
  const ready = waitFor('ready') as unknown as Promise<ServerReady>;
  return {
    ready,
    async ask(req, answer) {
      const p = waitFor(answer);
      child.send(req);
      return p;
    },
    async cpu() {
      const p = waitFor('cpu');
      child.send({ kind: 'cpu' } satisfies ServerRequest);
      const m = await p;
      return { micros: Number(m.micros), at: Number(m.at) };
    },
    async stop() {
      if (child.exitCode !== null || !child.connected) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ kind: 'stop' } satisfies ServerRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got ${String(raw)}`);
  return n;
}
