/**
 * The server side of `bench:feed` (see feed.ts), a child process: the whole of Hearth in
 * monolith mode, seeded with BENCH_CIRCLES circles and BENCH_READERS readers who each join
 * BENCH_JOINED of them, then BENCH_POSTS posts written straight into the post service's table
 * (tools/src/bench/seed-posts.ts; progress over IPC). For each reader it makes the page token of the
 * feed page BENCH_DEEP_PAGE pages deep (by the post service's own codec), so the generator can
 * ask for it without paging down to it first.
 */
import { randomUUID } from 'node:crypto';
import { schemas } from '@hearth/config';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type PostApp, postPages } from '@hearth/service-post';
import { Seed, connectClients } from '@hearth/testkit/system';
import { sql } from 'kysely';
import { seedPosts } from './seed-posts.js';
import { startSystem } from '../system.js';

export interface FeedReader {
  readonly userId: string;
  readonly token: string;
  /** The page token of the feed page `deepPage` pages deep. */
  readonly deepToken: string;
}

export type FeedServerMessage =
  | { readonly kind: 'seeding'; readonly done: number; readonly total: number }
  | { readonly kind: 'ready'; readonly url: string; readonly readers: readonly FeedReader[]; readonly node: string; readonly postsPerFeed: number }
  | { readonly kind: 'cpu'; readonly micros: number };

const send = (msg: FeedServerMessage): void => void process.send?.(msg);
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const circlesN = env('BENCH_CIRCLES', 100);
const readersN = env('BENCH_READERS', 8);
const joinedN = env('BENCH_JOINED', 50);
const postsN = env('BENCH_POSTS', 1_000_000);
const pageSize = env('BENCH_PAGE_SIZE', 20);
const deepPage = env('BENCH_DEEP_PAGE', 10_000);

const system = await startSystem({ env: { ...process.env } });
const auth = system.modules.find((m) => m.name === 'auth');
const post = system.modules.find((m) => m.name === 'post') as PostApp;
const seed = new Seed({ clients: connectClients(system.url), runtime: system.runtime, auth: auth as never });
const clients = connectClients(system.url);

const circleIds: string[] = [];
const owners: string[] = [];
for (let c = 0; c < circlesN; c++) {
  const owner = await seed.person({ name: 'owner' });
  const { circle } = await clients.circle.createCircle({ name: `Feed ${c}`, visibility: CircleVisibility.PUBLIC, idempotencyKey: `feed-${randomUUID()}` }, owner.call);
  circleIds.push(circle!.id);
  owners.push(owner.userId);
}
const people: Array<{ userId: string; token: string; circles: string[] }> = [];
for (let r = 0; r < readersN; r++) {
  const p = await seed.person({ name: `reader${r}` });
  const circles = Array.from({ length: joinedN }, (_, k) => circleIds[(r * 7 + k) % circlesN]!);
  for (const id of circles) await clients.circle.joinCircle({ target: { case: 'circleId', value: id } }, p.call);
  people.push({ userId: p.userId, token: p.accessToken, circles });
}

await seedPosts(post.db as never, {
  circleIds,
  authorIds: owners,
  total: postsN,
  keys: schemas.ringKeys('HEARTH_POST_BODY_KEYS', { reveal: () => process.env.HEARTH_POST_BODY_KEYS ?? '' }),
  onProgress: (done) => send({ kind: 'seeding', done, total: postsN }),
});
// As autovacuum would soon after: statistics, and the visibility map index-only reads rely on.
await sql`vacuum analyze posts`.execute(post.db.db as never);

// The position after which page `deepPage` starts, per reader, as the service would encode it.
const feedCodec = postPages(system.runtime.pageTokens).feed;
const readers: FeedReader[] = [];
for (const p of people) {
  const { rows } = await sql<{ create_time: Date; id: string }>`
    select create_time, id from posts where circle_id = any(${p.circles}::uuid[]) and state = 'published'
    order by create_time desc, id desc offset ${(deepPage - 1) * pageSize - 1} limit 1`.execute(post.db.db as never);
  const at = rows[0];
  if (!at) throw new Error(`reader ${p.userId} has fewer than ${deepPage} pages of feed`);
  readers.push({ userId: p.userId, token: p.token, deepToken: feedCodec.encode({ t: at.create_time, id: at.id }, p.userId) });
}

process.on('message', (raw) => {
  const req = raw as { kind: string };
  if (req.kind === 'cpu') {
    const u = process.cpuUsage();
    send({ kind: 'cpu', micros: u.user + u.system });
  } else if (req.kind === 'stop') {
    void system.close().then(() => process.disconnect?.());
  }
});

send({ kind: 'ready', url: system.url, readers, node: process.version, postsPerFeed: Math.round((postsN * joinedN) / circlesN) });
