import type { ConnectRouter } from '@connectrpc/connect';
import type { BlockSource } from '@hearth/authz';
import { type Database, type EventPublisher, FieldCipher } from '@hearth/db';
import { type Runtime, ServiceApp, type ServiceDefinition, memoryBackend, redisBackend, serviceDatabase } from '@hearth/platform';
import { schemas } from '@hearth/config';
import { ChatLimits } from './chat/service/limits.js';
import { MessageMarks } from './chat/service/marks.js';
import { SystemMessages } from './chat/service/system.js';
import { ChatMessages } from './chat/service/messages.js';
import { type CircleConfig, circleConfigSpec } from './config.js';
import { migrations } from './migrations/index.js';
import { type RpcDeps, registerRpc } from './rpc/index.js';
import { chatRules, circleRules } from './rpc/rules.js';
import { AccountRemoval } from './service/account-removal.js';
import { Circles } from './service/circles.js';
import { Invites } from './service/invites.js';
import { MemberActions } from './service/member-actions.js';
import { Memberships } from './service/memberships.js';
import { circlePages } from './service/pages.js';
import type { CirclesTables } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'circles';

export interface CircleDeps {
  readonly db: Database<CirclesTables>;
  /** The service's clock: invites and mutes expire by it; tests move it. */
  readonly now: () => Date;
  /** Where membership events go after commit (runtime.bus). */
  readonly bus: EventPublisher;
  /** Blocks between people, for DiscoverCircles and mentions (the process's cached source). */
  readonly blocks: BlockSource;
  /** Seals message bodies at rest, from HEARTH_CIRCLE_MESSAGE_KEYS. */
  readonly cipher: FieldCipher;
  /** Send limits (Redis when configured, else this process's memory). */
  readonly limits: ChatLimits;
}

/** Composition root of the circle service: the one place its dependencies are built and wired. */
export class CircleApp extends ServiceApp<CirclesTables> {
  static fromConfig(config: CircleConfig, runtime: Runtime, overrides: Partial<CircleDeps> = {}): CircleApp {
    return new CircleApp(runtime, {
      db: overrides.db ?? serviceDatabase<CirclesTables>(runtime, 'circle', SCHEMA),
      now: overrides.now ?? (() => new Date()),
      bus: overrides.bus ?? runtime.bus,
      blocks: overrides.blocks ?? runtime.authorization.blocks,
      cipher: overrides.cipher ?? new FieldCipher(schemas.ringKeys('HEARTH_CIRCLE_MESSAGE_KEYS', config.service.messageKeys)),
      limits: overrides.limits ?? chatLimits(config, runtime),
    });
  }

  readonly name = 'circle';
  readonly rules = [circleRules, chatRules];
  readonly circles: Circles;
  readonly invites: Invites;
  readonly memberships: Memberships;
  readonly admin: MemberActions;
  readonly removal: AccountRemoval;
  readonly chat: ChatMessages;
  readonly marks: MessageMarks;
  readonly #rpc: RpcDeps;

  private constructor(runtime: Runtime, deps: CircleDeps) {
    super({ db: deps.db, migrations, logger: runtime.logger });
    const system = new SystemMessages({ cipher: deps.cipher, bus: deps.bus });
    const common = { db: deps.db, bus: deps.bus, now: deps.now, pages: circlePages(runtime.pageTokens), system };
    this.circles = new Circles({ ...common, blocks: deps.blocks });
    this.invites = new Invites(common);
    this.memberships = new Memberships(common);
    this.admin = new MemberActions(common);
    this.removal = new AccountRemoval(common);
    const chatDeps = { ...common, cipher: deps.cipher, blocks: deps.blocks, limits: deps.limits };
    this.chat = new ChatMessages(chatDeps);
    this.marks = new MessageMarks(chatDeps, this.chat);
    this.#rpc = {
      circles: this.circles,
      invites: this.invites,
      memberships: this.memberships,
      admin: this.admin,
      removal: this.removal,
      chat: this.chat,
      marks: this.marks,
      now: deps.now,
    };
  }

  routes(router: ConnectRouter): void {
    registerRpc(router, this.#rpc);
  }
}

function chatLimits(config: CircleConfig, runtime: Runtime): ChatLimits {
  const redis = runtime.redis;
  const backend = redis ? redisBackend(redis.client, 'circle:') : memoryBackend('circle:');
  return new ChatLimits(backend, config.service.limits, () => redis?.available ?? true);
}

/** The circle service as hosts run it (main.ts, the monolith, the test harness). */
export const circleService: ServiceDefinition<typeof circleConfigSpec, CircleDeps, CircleApp> = {
  name: 'circle',
  configSpec: circleConfigSpec,
  create: (config, runtime, overrides) => CircleApp.fromConfig(config, runtime, overrides),
};
