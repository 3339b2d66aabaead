import websocket from '@fastify/websocket';
import type { Logger } from '@hearth/telemetry';
import type { FastifyInstance } from 'fastify';
import type { ChannelHub } from './channels.js';
import { Connection, type ConnectionLimits, type SocketAuth, closeWithError } from './connection.js';
import { ErrorCode, SUBPROTOCOL } from './frames.js';
import { SocketCaps, type SocketCapsOptions } from './socket-caps.js';

export const REALTIME_PATH = '/v1/realtime';

export type GatewayOptions = ConnectionLimits & SocketCapsOptions;

/**
 * How long a socket refused for too many unwelcomed sockets waits before it tries again. Honest
 * sockets leave that state within a round trip, so a slot is usually free by then; a gateway
 * over its total cap is under pressure and gets a longer pause.
 */
const REFUSED_RETRY_AFTER_MS = { address: 1_000, process: 5_000 } as const;

/** The gateway's open sockets, so a shutdown can tell each one to go elsewhere. */
export interface GatewaySockets {
  /**
   * Closes every socket with GOING_AWAY and a jittered retry_after within `spreadMs`, so the
   * apps reconnect to another instance spread out instead of all at once, and resume there.
   */
  goingAway(spreadMs: number): void;
  /** Closes at once every socket of a session that just ended (the deny-list's event). */
  endSession(sessionId: string): void;
}

/**
 * Registers the WebSocket endpoint in its own encapsulated Fastify scope, so the websocket
 * plugin's hooks apply to this route only. Frames larger than `maxFrameBytes` are refused by ws
 * itself (close 1009) before they are buffered. The socket caps are this process's: one
 * registry per gateway, shared by every socket it accepts.
 */
export async function registerGateway(app: FastifyInstance, opts: GatewayOptions, auth: SocketAuth, hub: ChannelHub, log: Logger): Promise<GatewaySockets> {
  const caps = new SocketCaps(opts);
  const open = new Set<Connection>();
  let closing = false;
  // One timer for every socket's heartbeat (a timer each would cost memory per idle socket).
  const heartbeat = setInterval(() => {
    for (const c of open) c.beat();
  }, opts.heartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));
  await app.register(async (scope) => {
    await scope.register(websocket, {
      options: {
        maxPayload: opts.maxFrameBytes,
        handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      },
    });
    scope.get(REALTIME_PATH, { websocket: true }, (socket, req) => {
      // req.ip honours the server's trusted-proxy setting, so behind a proxy it is the client's.
      if (closing) {
        closeWithError(socket, ErrorCode.GOING_AWAY, 'the gateway is shutting down', { retryAfterMs: 1_000 });
        return;
      }
      const admission = caps.admit(req.ip);
      if (!admission.admitted) {
        log.debug({ connection: req.id, scope: admission.scope }, 'socket refused: too many unwelcomed sockets');
        closeWithError(socket, ErrorCode.TOO_MANY_CONNECTIONS, admission.reason, { retryAfterMs: REFUSED_RETRY_AFTER_MS[admission.scope] });
        return;
      }
      // Only what a cookie Hello needs of the upgrade request is kept, and only until Welcome.
      const upgrade = { cookie: req.headers.cookie, origin: req.headers.origin };
      const connection = new Connection(socket, req.id, opts, auth, upgrade, admission.lease, log, hub);
      open.add(connection);
      socket.on('close', () => open.delete(connection));
    });
  });
  return {
    endSession(sessionId) {
      for (const c of [...open]) if (c.sessionId === sessionId) c.sessionEnded();
    },
    goingAway(spreadMs) {
      closing = true;
      for (const c of open) c.fail(ErrorCode.GOING_AWAY, 'the gateway is shutting down; reconnect and resume', { retryAfterMs: 500 + Math.floor(Math.random() * spreadMs) });
      open.clear();
    },
  };
}
