import websocket from '@fastify/websocket';
import type { Logger } from '@hearth/telemetry';
import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { Connection, type ConnectionLimits, type SocketAuth } from './connection.js';
import { SUBPROTOCOL } from './frames.js';

export const REALTIME_PATH = '/v1/realtime';

export type GatewayOptions = ConnectionLimits;

/** Socket authentication given the upgrade request's headers (for the cookie fallback). */
export type UpgradeAuth = (headers: IncomingHttpHeaders) => SocketAuth;

/**
 * Registers the WebSocket endpoint in its own encapsulated Fastify scope, so the websocket
 * plugin's hooks apply to this route only. Frames larger than `maxFrameBytes` are refused by ws
 * itself (close 1009) before they are buffered.
 */
export async function registerGateway(app: FastifyInstance, opts: GatewayOptions, auth: UpgradeAuth, log: Logger): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(websocket, {
      options: {
        maxPayload: opts.maxFrameBytes,
        handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      },
    });
    scope.get(REALTIME_PATH, { websocket: true }, (socket, req) => {
      new Connection(socket, req.id, opts, auth(req.headers), log.child({ connection: req.id }));
    });
  });
}
