import type { ConnectRouter } from '@connectrpc/connect';
import { schemas } from '@hearth/config';
import { type Database, FieldCipher } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, serviceDatabase } from '@hearth/platform';
import { type PostConfig, postConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { postRules } from './rpc/rules.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'posts';

export interface PostDeps {
  readonly db: Database<unknown>;
  /** Seals post and response bodies at rest, from HEARTH_POST_BODY_KEYS. */
  readonly cipher: FieldCipher;
}

/** Composition root of the post service: the one place its dependencies are built and wired. */
export class PostApp extends ServiceApp<unknown> {
  static fromConfig(config: PostConfig, runtime: Runtime, overrides: Partial<PostDeps> = {}): PostApp {
    return new PostApp(runtime, {
      db: overrides.db ?? serviceDatabase(runtime, 'post', SCHEMA),
      cipher: overrides.cipher ?? new FieldCipher(keyRing(config.service.bodyKeys.reveal())),
    });
  }

  readonly name = 'post';
  readonly rules = [postRules];

  private constructor(runtime: Runtime, deps: PostDeps) {
    super({ db: deps.db, migrations, logger: runtime.logger });
  }

  routes(router: ConnectRouter): void {
    registerRpc(router);
  }
}

/** The config schema has checked the ring; this only unwraps it. */
function keyRing(text: string) {
  const ring = schemas.parseKeyRing(text);
  if ('problem' in ring) throw new Error(`HEARTH_POST_BODY_KEYS: ${ring.problem}`);
  return ring.keys;
}

/** The post service as hosts run it (main.ts, the monolith, the test harness). */
export const postService: ServiceDefinition<typeof postConfigSpec, PostDeps, PostApp> = {
  name: 'post',
  configSpec: postConfigSpec,
  create: (config, runtime, overrides) => PostApp.fromConfig(config, runtime, overrides),
};
