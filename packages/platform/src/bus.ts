import type { Logger } from '@hearth/telemetry';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * Live events between processes (membership changes, block changes, later chat fan-out).
 * Delivery is at most once: a subscriber that is away misses events, so nothing durable may
 * depend on the bus. Caches that listen to it also expire on their own within seconds.
 */
export interface EventBus {
  /** Publishes after the change committed. Never throws: a lost event only delays a cache. */
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  /** Calls `handler` for every event on `topic` until the returned function is called. */
  subscribe(topic: string, handler: (payload: unknown) => void): () => void;
  close(): Promise<void>;
}

const PREFIX = 'hearth:';
const PG_CHANNEL = 'hearth_events';

type Handlers = Map<string, Set<(payload: unknown) => void>>;

/**
 * Events carry the id of the bus that sent them. A bus hands its own events to its subscribers
 * synchronously inside `publish` (so the next request in this process already sees a cache
 * invalidated) and ignores them when they come back from Redis or Postgres.
 */
interface Envelope {
  readonly o: string;
  readonly p: unknown;
}

const encode = (origin: string, payload: unknown) => JSON.stringify({ o: origin, p: payload } satisfies Envelope);

function deliverRemote(handlers: Handlers, self: string, topic: string, raw: string, logger: Logger): void {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(raw) as Envelope;
  } catch {
    logger.warn({ topic }, 'undecodable bus event dropped');
    return;
  }
  if (envelope.o !== self) dispatch(handlers, topic, envelope.p, logger);
}

function dispatch(handlers: Handlers, topic: string, payload: unknown, logger: Logger): void {
  const set = handlers.get(topic);
  if (!set || set.size === 0) return;
  for (const handler of set) {
    try {
      handler(payload);
    } catch (err) {
      logger.error({ err, topic }, 'bus event handler failed');
    }
  }
}

function addHandler(handlers: Handlers, topic: string, handler: (payload: unknown) => void, onFirst: () => void) {
  let set = handlers.get(topic);
  if (!set) {
    set = new Set();
    handlers.set(topic, set);
    onFirst();
  }
  set.add(handler);
  return () => set.delete(handler);
}

/**
 * Redis pub/sub; subscriptions use a second connection, as Redis requires. Channels are not
 * keys, so `prefix` (default "hearth:") is what keeps two systems on one Redis apart.
 */
export function redisBus(redis: Redis, logger: Logger, prefix = PREFIX): EventBus {
  const handlers: Handlers = new Map();
  const self = randomUUID();
  const sub = redis.duplicate();
  sub.on('error', () => undefined); // the main connection already logs Redis trouble
  sub.on('message', (channel: string, message: string) => deliverRemote(handlers, self, channel.slice(prefix.length), message, logger));
  return {
    async publish(topic, payload) {
      dispatch(handlers, topic, payload, logger);
      try {
        await redis.publish(prefix + topic, encode(self, payload));
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message }, topic }, 'bus publish failed; subscribers catch up when their caches expire');
      }
    },
    subscribe(topic, handler) {
      return addHandler(handlers, topic, handler, () => {
        sub.subscribe(prefix + topic).catch((err: Error) => logger.warn({ err: { message: err.message }, topic }, 'bus subscribe failed'));
      });
    },
    async close() {
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}

/**
 * Postgres LISTEN/NOTIFY, for deployments without Redis. One connection listens for the
 * process and reconnects after a failure; events sent while it was away are lost (see EventBus).
 */
export function postgresBus(databaseUrl: string, logger: Logger): EventBus {
  const handlers: Handlers = new Map();
  const self = randomUUID();
  // One connection, so events from this process arrive in the order they were published.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, application_name: 'hearth-bus' });
  pool.on('error', () => undefined);
  let listener: pg.Client | undefined;
  // One LISTEN connection per process, however many topics subscribe while it connects.
  let connecting = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const listen = async (attempt = 0): Promise<void> => {
    if (closed || listener || (connecting && attempt === 0)) return;
    connecting = true;
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hearth-bus-listen' });
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (closed) return;
      logger.warn({ err: { message: (err as Error).message } }, 'bus cannot listen on Postgres; retrying');
      retry = setTimeout(() => void listen(attempt + 1), Math.min(5_000, 200 * 2 ** attempt));
      retry.unref();
      return;
    }
    connecting = false;
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
    client.on('notification', (n) => {
      if (!n.payload) return;
      const sep = n.payload.indexOf('\n');
      if (sep > 0) deliverRemote(handlers, self, n.payload.slice(0, sep), n.payload.slice(sep + 1), logger);
    });
    client.on('error', () => {
      listener = undefined;
      void client.end().catch(() => undefined);
      if (!closed) void listen();
    });
  };

  return {
    async publish(topic, payload) {
      dispatch(handlers, topic, payload, logger);
      try {
        await pool.query('select pg_notify($1, $2)', [PG_CHANNEL, `${topic}\n${encode(self, payload)}`]);
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message }, topic }, 'bus publish failed; subscribers catch up when their caches expire');
      }
    },
    subscribe(topic, handler) {
      return addHandler(handlers, topic, handler, () => void listen());
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
