/**
 * Feed reads: `npm run -w tools bench:feed [-- --write]`.
 *
 * One child process serves the whole of Hearth in monolith mode (feed-server.ts), seeded with
 * `--posts` posts over `--circles` circles and `--readers` readers who each belong to
 * `--joined` of them. This process calls PostService.ListFeed as those readers, `--concurrency`
 * calls in flight (closed loop), for `--seconds` per case: page 1, and the page `--deep-page`
 * pages down (its token made by the server). Keyset pagination promises the two cost the same.
 * Not a test: nothing asserts a speed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from '@connectrpc/connect';
import { compressionGzip, createConnectTransport } from '@connectrpc/connect-node';
import { PostService } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';
import { createTestDatabase, createTestRedis, repoRoot } from '@hearth/testkit';
import { progressBar } from './seed-posts.js';
import type { FeedReader, FeedServerMessage } from './feed-server.js';
import { benchServerEnv, cpuOf, median, percentile } from './measure.js';
import { wrap, writeSection } from './report.js';

const { values: args } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    posts: { type: 'string', default: '1000000' },
    circles: { type: 'string', default: '100' },
    readers: { type: 'string', default: '8' },
    joined: { type: 'string', default: '50' },
    'deep-page': { type: 'string', default: '10000' },
    'page-size': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    // 'gzip': the generator accepts compressed responses, as browsers do; 'none': it does not
    // (its own decompression then leaves the box's cores to the server and Postgres).
    compression: { type: 'string', default: 'gzip' },
    // Writes a CPU profile of the server (its whole life, seeding too) under .hearth/bench.
    profile: { type: 'boolean', default: false },
  },
});
const n = (k: keyof typeof args) => Number(args[k]);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const testDb = await createTestDatabase({ prefix: 'bench_feed' });
const testRedis = await createTestRedis();
const child: ChildProcess = fork(fileURLToPath(new URL(import.meta.url.endsWith('.js') ? 'feed-server.js' : 'feed-server.ts', import.meta.url)), [], {
  env: {
    ...process.env,
    ...benchServerEnv(testDb.url, testRedis.url),
    BENCH_CIRCLES: args.circles,
    BENCH_READERS: args.readers,
    BENCH_JOINED: args.joined,
    BENCH_POSTS: args.posts,
    BENCH_PAGE_SIZE: args['page-size'],
    BENCH_DEEP_PAGE: args['deep-page'],
  },
  execArgv: [
    ...(import.meta.url.endsWith('.js') ? [] : ['--conditions=@hearth/source', '--import', 'tsx']),
    ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(repoRoot(), '.hearth', 'bench')}`] : []),
  ],
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});

const bar = progressBar('seeding posts', n('posts'));
const ready = await new Promise<Extract<FeedServerMessage, { kind: 'ready' }>>((resolve, reject) => {
  child.on('message', (m: FeedServerMessage) => {
    if (m.kind === 'seeding') bar.update(m.done);
    if (m.kind === 'ready') resolve(m);
  });
  child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
});
bar.stop();
log(`serving on ${ready.url}; ${ready.readers.length} readers, about ${ready.postsPerFeed} posts in each feed`);

const transport = createConnectTransport({
  baseUrl: ready.url,
  httpVersion: '1.1',
  useBinaryFormat: true,
  ...(args.compression === 'none' ? { acceptCompression: [] } : { acceptCompression: [compressionGzip] }),
});
const posts = createClient(PostService, transport);
const pageSize = n('page-size');

interface Case {
  readonly name: string;
  readonly calls: number;
  readonly p50: number;
  readonly p99: number;
  readonly perSec: number;
  /** Cores used over the case: the server, this generator, Postgres. */
  readonly cores: { readonly server: number; readonly generator: number; readonly postgres: number };
}

const serverCpu = (): Promise<number> =>
  new Promise((resolve) => {
    const on = (m: FeedServerMessage) => {
      if (m.kind !== 'cpu') return;
      child.off('message', on);
      resolve(m.micros);
    };
    child.on('message', on);
    child.send({ kind: 'cpu' });
  });

/** `concurrency` loops calling ListFeed for `seconds`, each loop as the next reader. */
async function measure(name: string, tokenOf: (r: FeedReader) => string, seconds: number): Promise<Case> {
  const ms: number[] = [];
  const cpu0 = { server: await serverCpu(), gen: process.cpuUsage(), pg: await cpuOf('postgres') };
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n('concurrency') }, async (_, i) => {
      const reader = ready.readers[i % ready.readers.length]!;
      const headers = { authorization: `Bearer ${reader.token}` };
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await posts.listFeed({ pageSize, pageToken: tokenOf(reader) }, { headers });
        ms.push(performance.now() - t0);
        if (res.posts.length !== pageSize) throw new Error(`${name}: a page of ${res.posts.length}`);
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const gen = process.cpuUsage(cpu0.gen);
  const cores = { server: ((await serverCpu()) - cpu0.server) / 1e6 / wall, generator: (gen.user + gen.system) / 1e6 / wall, postgres: ((await cpuOf('postgres')) - cpu0.pg) / wall };
  ms.sort((a, b) => a - b);
  return { name, calls: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), perSec: ms.length / wall, cores };
}

await measure('warm-up', () => '', 2);
await measure('warm-up deep', (r) => r.deepToken, 2);
const runs: Array<{ first: Case; deep: Case }> = [];
for (let run = 0; run < n('runs'); run++) {
  const first = await measure('page 1', () => '', n('seconds'));
  const deep = await measure(`page ${n('deep-page')}`, (r) => r.deepToken, n('seconds'));
  runs.push({ first, deep });
  const c = (x: Case) => `cores ${x.cores.server.toFixed(2)}/${x.cores.generator.toFixed(2)}/${x.cores.postgres.toFixed(2)}`;
  log(`run ${run + 1}: page 1 p50/p99 ${first.p50.toFixed(2)}/${first.p99.toFixed(2)} ms (${first.perSec.toFixed(0)}/s, ${c(first)}), page ${n('deep-page')} p50/p99 ${deep.p50.toFixed(2)}/${deep.p99.toFixed(2)} ms (${deep.perSec.toFixed(0)}/s, ${c(deep)}), ratio of p99 ${(deep.p99 / first.p99).toFixed(2)}`);
}
child.send({ kind: 'stop' });
await new Promise((r) => child.once('exit', r));
await testRedis.close();
await testDb.drop();

const row = (label: string, pick: (r: { first: Case; deep: Case }) => Case) => {
  const cases = runs.map(pick);
  const cores = (k: keyof Case['cores']) => median(cases.map((c) => c.cores[k])).toFixed(2);
  return `| ${label} | ${median(cases.map((c) => c.p50)).toFixed(2)} | ${median(cases.map((c) => c.p99)).toFixed(2)} (${cases.map((c) => c.p99.toFixed(2)).join(', ')}) | ${median(cases.map((c) => c.perSec)).toFixed(0)} | ${cores('server')} / ${cores('generator')} / ${cores('postgres')} |`;
};
const lines = [
  `## Feed: ListFeed on page 1 and 10,000 pages deep${args.compression === 'none' ? ', uncompressed' : ''}`,
  '',
  wrap(
    `Measured on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; Node ${ready.node}; ` +
      `PostgreSQL and Redis on loopback; 1-minute load average ${loadavg()[0]?.toFixed(2)} at the end. One child process serves the whole of Hearth in monolith mode ` +
      `(\`npm run -w tools bench:feed\`); ${n('posts').toLocaleString('en')} posts were seeded over ${n('circles')} circles (tools/src/bench/seed-posts.ts), and ${ready.readers.length} readers ` +
      `belong to ${n('joined')} circles each (about ${ready.postsPerFeed.toLocaleString('en')} posts in each feed). The generator calls ListFeed (binary protobuf, HTTP/1.1 keep-alive), ` +
      `${n('concurrency')} calls in flight, ${n('seconds')} s per case, pages of ${pageSize}; page ${n('deep-page').toLocaleString('en')} is asked for with its token; ` +
      `${args.compression === 'none' ? 'the generator does not accept compressed responses' : 'the generator accepts gzip, as browsers do, and decompresses every page'}. ` +
      `Medians of ${runs.length} runs, p99 of each run in brackets.`,
  ),
  '',
  '| page | p50 ms | p99 ms | calls/s | cores: server / generator / postgres |',
  '| --- | ---: | ---: | ---: | ---: |',
  row('1', (r) => r.first),
  row(n('deep-page').toLocaleString('en'), (r) => r.deep),
  '',
  `Ratio of the median p99s, deep to first: ${(median(runs.map((r) => r.deep.p99)) / median(runs.map((r) => r.first.p99))).toFixed(2)}.`,
];
const section = lines.join('\n');
process.stdout.write(`${section}\n`);
if (args.write) {
  const file = join(repoRoot(), 'docs', 'benchmarks.md');
  await writeSection(file, args.compression === 'none' ? 'feed-uncompressed' : 'feed', section);
  log(`updated ${file}`);
}
