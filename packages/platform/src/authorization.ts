import type { Interceptor } from '@connectrpc/connect';
import {
  type AuthorizationSources,
  type BlockSource,
  CachedBlocks,
  CachedMemberships,
  type MembershipSource,
  type ServiceRules,
  ServiceTokens,
  authorizationInterceptor,
  remoteBlocks,
  remoteMemberships,
} from '@hearth/authz';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';
import { randomBytes } from 'node:crypto';
import type { EventBus } from './bus.js';
import type { ServiceModule } from './host.js';
import type { BaseRuntime, SharedConfig } from './runtime.js';
import { type ServiceClientFactory, serviceClients } from './service-clients.js';

/** What a host's services share to decide who may do what, and to call each other. */
export interface HostAuthorization {
  readonly interceptor: Interceptor;
  readonly serviceTokens: ServiceTokens;
  readonly serviceClient: ServiceClientFactory;
  /** Cached answers about circles and blocks, from the hosting module or by RPC. */
  readonly sources: AuthorizationSources;
  /** Throws when the internal secret is needed but not set. */
  assertReady(): void;
  close(): void;
}

/**
 * Builds the authorization step from the modules' rule tables (default deny) and the sources
 * the rules read: circle membership (answered by the circle module when it is hosted here, else
 * asked of the circle service) and blocks (likewise the user module). Both are cached for a few
 * seconds and forgotten at once when the bus reports a change.
 */
export function createHostAuthorization(opts: {
  name: string;
  config: SharedConfig;
  runtime: BaseRuntime & { bus: EventBus };
  modules: () => readonly ServiceModule[];
  selfUrl: () => string | undefined;
}): HostAuthorization {
  const { config, runtime } = opts;
  // A single process only talks to itself, so a secret of its own is enough; separate
  // processes must share one (assertReady refuses to start otherwise).
  const secret = config.internal.secret?.reveal() ?? randomBytes(32);
  const serviceTokens = new ServiceTokens(secret, opts.name);
  const hosted = () => new Set(opts.modules().map((m) => m.mount.name));
  const serviceClient = serviceClients({ tokens: serviceTokens, urls: config.internal.serviceUrls, hosted, selfUrl: opts.selfUrl });

  const local = <K extends keyof AuthorizationSources>(key: K): AuthorizationSources[K] | undefined =>
    opts.modules().find((m) => m.authorizationSources?.[key])?.authorizationSources?.[key];
  // Resolved on first use: the modules exist only after this is built, and never change after.
  let memberSource: MembershipSource | undefined;
  let blockSource: BlockSource | undefined;
  const membershipSource: MembershipSource = {
    membership: (circleId, userId) =>
      (memberSource ??= local('memberships') ?? remoteMemberships(once(() => serviceClient(CircleService)))).membership(circleId, userId),
  };
  const blocksSource: BlockSource = {
    blockedAmong: (userId, others) =>
      (blockSource ??= local('blocks') ?? remoteBlocks(once(() => serviceClient(UserService)))).blockedAmong(userId, others),
  };
  const memberships = new CachedMemberships(membershipSource);
  const blocks = new CachedBlocks(blocksSource);
  const unsubscribe = [
    runtime.bus.subscribe('circle.membership', (p) => {
      const e = p as { circleId?: unknown; userId?: unknown; change?: unknown };
      if (typeof e.circleId !== 'string') return;
      // Archiving (and visibility changes) concern everyone's standing in the circle.
      memberships.invalidate(e.circleId, e.change === 'archived' || typeof e.userId !== 'string' ? undefined : e.userId);
    }),
    runtime.bus.subscribe('user.blocks', (p) => {
      const e = p as { userId?: unknown; otherUserId?: unknown };
      if (typeof e.userId === 'string' && typeof e.otherUserId === 'string') blocks.invalidate(e.userId, e.otherUserId);
    }),
  ];
  const sources: AuthorizationSources = { memberships, blocks };

  let rulesByType: Map<string, ServiceRules> | undefined;
  const interceptor = authorizationInterceptor({
    rules: (typeName) => {
      rulesByType ??= new Map(opts.modules().flatMap((m) => (m.rules ? [[m.rules.service.typeName, m.rules] as const] : [])));
      return rulesByType.get(typeName);
    },
    sources,
    logger: runtime.logger,
  });

  return {
    interceptor,
    serviceTokens,
    serviceClient,
    sources,
    assertReady() {
      if (Object.keys(config.internal.serviceUrls).length > 0 && !config.internal.secret) {
        throw new Error('HEARTH_INTERNAL_SECRET is required with HEARTH_SERVICE_URLS (services in separate processes)');
      }
    },
    close() {
      for (const off of unsubscribe) off();
    },
  };
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
