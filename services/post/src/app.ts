import type { ConnectRouter } from '@connectrpc/connect';
import { schemas } from '@hearth/config';
import { CachedUserCircles, remoteUserCircles } from '@hearth/authz';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { type Database, FieldCipher } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, createJobQueue, handle, memoryBackend, redisBackend, serviceDatabase } from '@hearth/platform';
import { type PostConfig, postConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { type RpcDeps, registerRpc } from './rpc/index.js';
import { postRules } from './rpc/rules.js';
import { type ContentChecks, acceptEverything } from './service/checks.js';
import { postJobs, purgeJob } from './service/jobs.js';
import { PostLimits } from './service/limits.js';
import { CirclePageCache } from './service/page-cache.js';
import { purgePosts } from './service/purge.js';
import { postPages } from './service/model.js';
import { Posts } from './service/posts.js';
import { Responses } from './service/responses.js';
import type { PostsTables } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'posts';

export interface PostDeps {
  readonly db: Database<PostsTables>;
  /** Seals post and response bodies at rest, from HEARTH_POST_BODY_KEYS. */
  readonly cipher: FieldCipher;
  /** Every post and response write passes it before it is stored (moderation rules plug in here). */
  readonly checks: ContentChecks;
  /** Write limits (Redis when configured, else this process's memory). */
  readonly limits: PostLimits;
  readonly now: () => Date;
}

/** Composition root of the post service: the one place its dependencies are built and wired. */
export class PostApp extends ServiceApp<PostsTables> {
  static fromConfig(config: PostConfig, runtime: Runtime, overrides: Partial<PostDeps> = {}): PostApp {
    return new PostApp(config, runtime, {
      db: overrides.db ?? serviceDatabase<PostsTables>(runtime, 'post', SCHEMA),
      cipher: overrides.cipher ?? new FieldCipher(schemas.ringKeys('HEARTH_POST_BODY_KEYS', config.service.bodyKeys)),
      checks: overrides.checks ?? acceptEverything,
      limits: overrides.limits ?? postLimits(config, runtime),
      now: overrides.now ?? (() => new Date()),
    });
  }

  readonly name = 'post';
  readonly rules = [postRules];
  readonly posts: Posts;
  readonly #rpc: RpcDeps;
  readonly #runtime: Runtime;
  readonly #userCircles: CachedUserCircles;
  #off: (() => void) | undefined;
  readonly #purge: () => Promise<number>;

  private constructor(config: PostConfig, runtime: Runtime, deps: PostDeps) {
    const retentionMs = config.service.deletedRetentionDays * 86_400_000;
    const jobs = createJobQueue({
      databaseUrl: config.database.url,
      queue: postJobs,
      logger: runtime.logger,
      handlers: [handle(purgeJob, async () => void (await purgePosts(deps.db, deps.now(), retentionMs)))],
      // Expired posts already left every read at their time; this only frees their rows.
      schedule: [{ job: purgeJob, at: '*/15 * * * *' }],
    });
    super({ db: deps.db, migrations, jobs, logger: runtime.logger });
    this.#purge = () => purgePosts(deps.db, deps.now(), retentionMs);
    this.#runtime = runtime;
    this.#userCircles = new CachedUserCircles(remoteUserCircles(() => runtime.serviceClient(CircleService)));
    const pages = postPages(runtime.pageTokens);
    this.posts = new Posts({
      userCircles: this.#userCircles,
      limits: deps.limits,
      pageCache: new CirclePageCache(runtime.redis),
      db: deps.db,
      cipher: deps.cipher,
      memberships: runtime.authorization.memberships,
      blocks: runtime.authorization.blocks,
      checks: deps.checks,
      pages,
      now: deps.now,
    });
    const responses = new Responses({
      db: deps.db,
      cipher: deps.cipher,
      memberships: runtime.authorization.memberships,
      checks: deps.checks,
      posts: this.posts,
      limits: deps.limits,
      pages: pages.responses,
      now: deps.now,
    });
    this.#rpc = { posts: this.posts, responses };
  }

  routes(router: ConnectRouter): void {
    registerRpc(router, this.#rpc);
  }

  /** Runs the purge now, by the service's clock (the schedule runs it every 15 minutes); returns how many posts went. */
  purge(): Promise<number> {
    return this.#purge();
  }

  protected override async onStart(): Promise<void> {
    // Someone joined or left a circle: their feed reads their circles afresh.
    this.#off = this.#userCircles.follow(this.#runtime.bus);
  }

  protected override async onStop(): Promise<void> {
    this.#off?.();
  }
}

function postLimits(config: PostConfig, runtime: Runtime): PostLimits {
  const redis = runtime.redis;
  const backend = redis ? redisBackend(redis.client, 'post:') : memoryBackend('post:');
  return new PostLimits(backend, config.service.limits, () => redis?.available ?? true);
}

/** The post service as hosts run it (main.ts, the monolith, the test harness). */
export const postService: ServiceDefinition<typeof postConfigSpec, PostDeps, PostApp> = {
  name: 'post',
  configSpec: postConfigSpec,
  create: (config, runtime, overrides) => PostApp.fromConfig(config, runtime, overrides),
};
