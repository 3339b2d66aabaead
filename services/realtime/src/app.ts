import { authenticateUpgrade, chatMessageTopic, membershipTopic, presenceSharingTopic, readMarkerTopic, sessionRevokedTopic, typingTopic } from '@hearth/authz';
import { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import type { Runtime, ServiceDefinition, ServiceModule } from '@hearth/platform';
import type { FastifyInstance } from 'fastify';
import { type RealtimeConfig, realtimeConfigSpec } from './config.js';
import { ChannelHub } from './gateway/channels.js';
import { GatewayMetrics } from './gateway/metrics.js';
import { DEFAULT_PRESENCE_TIMING, presenceTopic } from './gateway/presence.js';
import { type GatewaySockets, registerGateway } from './gateway/route.js';

/**
 * How often the gateway reads on in every subscribed circle anyway: a safety net under the
 * catch-up that follows every reconnection of the bus.
 */
const SWEEP_MS = 30_000;
/** Sockets told to go away reconnect within this long of each other (plus 0.5 s). */
const GOING_AWAY_SPREAD_MS = 4_000;
/** How long the gateway waits to learn whether someone shares presence (they show offline meanwhile). */
const PRESENCE_SHARING_TIMEOUT_MS = 2_000;

/**
 * Composition root of the realtime gateway. It owns no schema: history comes from the circle
 * service and live events from the bus, so it has nothing to migrate.
 */
export class RealtimeApp implements ServiceModule {
  static fromConfig(config: RealtimeConfig, runtime: Runtime): RealtimeApp {
    return new RealtimeApp(config, runtime);
  }

  readonly name = 'realtime';
  readonly rules = [];
  readonly readiness = [];
  readonly #config: RealtimeConfig;
  readonly #runtime: Runtime;
  readonly hub: ChannelHub;
  #stops: Array<() => void> = [];
  #sockets: GatewaySockets | undefined;

  private constructor(config: RealtimeConfig, runtime: Runtime) {
    this.#config = config;
    this.#runtime = runtime;
    const chat = runtime.serviceClient(ChatService);
    const users = runtime.serviceClient(UserService);
    this.hub = new ChannelHub(
      {
        memberships: runtime.authorization.memberships,
        blocks: runtime.authorization.blocks,
        history: {
          read: async (circleId, afterSeq, limit) => chat.listMessagesForDelivery({ circleId, afterSeq, pageSize: limit }),
        },
        presenceSharing: {
          sharing: async (userId) =>
            (await users.checkPresenceSharing({ userIds: [userId] }, { timeoutMs: PRESENCE_SHARING_TIMEOUT_MS })).sharingUserIds.includes(userId),
        },
      },
      { maxSubscriptions: config.service.maxSubscriptions, maxBackfill: config.service.maxBackfill, typingIntervalMs: config.service.typingIntervalMs },
      runtime.logger.child({ subsystem: 'realtime-channels' }),
      new GatewayMetrics(runtime.metrics.registry),
      {
        typing: (e) => void runtime.bus.publish(typingTopic, e).catch(() => undefined),
        presence: (e) => void runtime.bus.publish(presenceTopic, e).catch(() => undefined),
      },
    );
  }

  routes(): void {}

  async http(app: FastifyInstance): Promise<void> {
    const log = this.#runtime.logger.child({ subsystem: 'realtime' });
    const { verifier, denyList } = this.#runtime.sessions;
    // Cookie-authenticated sockets are accepted from the origins CORS allows.
    const upgrade = { verifier, denyList, allowedOrigins: this.#config.server.corsOrigins, logger: log };
    this.#sockets = await registerGateway(
      app,
      this.#config.service,
      {
        authenticate: async (accessToken, headers) => (await authenticateUpgrade(upgrade, { accessToken, headers })).identity,
        isRevoked: (sessionId) => denyList.isRevoked(sessionId),
      },
      this.hub,
      log,
    );
  }

  async migrate(): Promise<void> {}

  async start(): Promise<void> {
    const bus = this.#runtime.bus;
    const sweep = setInterval(() => this.hub.sweep(), SWEEP_MS);
    sweep.unref();
    const presence = this.hub.presence;
    const refresh = setInterval(() => {
      presence.expire();
      presence.refresh();
    }, DEFAULT_PRESENCE_TIMING.refreshMs);
    refresh.unref();
    this.#stops = [
      bus.subscribe(chatMessageTopic, (e) => this.hub.onMessage(e)),
      bus.subscribe(membershipTopic, (e) => this.hub.onMembership(e)),
      bus.subscribe(typingTopic, (e) => this.hub.onTyping(e)),
      bus.subscribe(readMarkerTopic, (e) => this.hub.onReadMarker(e)),
      bus.subscribe(presenceTopic, (e) => this.hub.onPresence(e)),
      bus.subscribe(presenceSharingTopic, (e) => this.hub.onPresenceSharing(e.userId, e.sharing)),
      // A session ended (logout, suspension, ban, deletion): its sockets close now, not at the
      // next heartbeat (which still catches what the bus drops).
      bus.subscribe(sessionRevokedTopic, (e) => this.#sockets?.endSession(e.sessionId)),
      // Events published while the bus connection was away never arrive: read on at once, and
      // trade presence with the other gateways again.
      bus.onReconnect(() => {
        this.hub.sweep();
        presence.refresh();
        presence.ask();
      }),
      () => clearInterval(sweep),
      () => clearInterval(refresh),
    ];
    presence.ask();
  }

  /**
   * Shutdown: readiness already fails, so no new socket is routed here; every open one gets
   * GOING_AWAY (close code 4010) with a retry_after spread over a few seconds, and resumes on
   * another instance, losing nothing.
   */
  async stop(): Promise<void> {
    this.#sockets?.goingAway(GOING_AWAY_SPREAD_MS);
    for (const stop of this.#stops.splice(0)) stop();
  }
  async close(): Promise<void> {}
}

/** The realtime gateway as hosts run it (main.ts, the monolith, the test harness). */
export const realtimeService: ServiceDefinition<typeof realtimeConfigSpec, never, RealtimeApp> = {
  name: 'realtime',
  configSpec: realtimeConfigSpec,
  create: (config, runtime) => RealtimeApp.fromConfig(config, runtime),
};
