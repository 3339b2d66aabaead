import type { EventBus, Topic } from '@hearth/db';
import type { Logger } from '@hearth/telemetry';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { RedisAccess } from './contract.js';

const PREFIX = 'hearth:';
const PG_CHANNEL = 'hearth_events';

interface Subscription {
  readonly topic: Topic<unknown>;
  readonly handlers: Set<(payload: unknown) => void>;
}
type Subscriptions = Map<string, Subscription>;

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

/** An event from another process: checked against its topic's payload type before delivery. */
function deliverRemote(subs: Subscriptions, self: string, name: string, raw: string, logger: Logger): void {
  const sub = subs.get(name);
  if (!sub || sub.handlers.size === 0) return;
  let envelope: Envelope;
  try {
    envelope = JSON.parse(raw) as Envelope;
  } catch {
    logger.warn({ topic: name }, 'undecodable bus event dropped');
    return;
  }
  if (envelope.o === self) return;
  const parsed = sub.topic.payload.safeParse(envelope.p);
  if (!parsed.success) {
    // Another version of Hearth, or a bug: never hand a handler something its type denies.
    logger.warn({ topic: name }, 'bus event that does not fit its topic dropped');
    return;
  }
  dispatch(sub, parsed.data, logger);
}

function dispatch(sub: Subscription | undefined, payload: unknown, logger: Logger): void {
  if (!sub) return;
  for (const handler of sub.handlers) {
    try {
      handler(payload);
    } catch (err) {
      logger.error({ err, topic: sub.topic.name }, 'bus event handler failed');
    }
  }
}

function addHandler<T>(subs: Subscriptions, topic: Topic<T>, handler: (payload: T) => void, onFirst: () => void): () => void {
  let sub = subs.get(topic.name);
  if (!sub) {
    sub = { topic: topic as Topic<unknown>, handlers: new Set() };
    subs.set(topic.name, sub);
    onFirst();
  }
  const h = handler as (payload: unknown) => void;
  sub.handlers.add(h);
  const s = sub;
  return () => void s.handlers.delete(h);
}

/**
 * Redis pub/sub; subscriptions use a second connection, as Redis requires. Channels are not
 * keys, so `prefix` (default "hearth:") is what keeps two systems on one Redis apart. Publishing
 * goes through the circuit breaker: with Redis down it costs nothing and the event is lost,
 * which the bus allows (see EventBus).
 */
export function redisBus(redis: RedisAccess, logger: Logger, prefix = PREFIX): EventBus {
  const subs: Subscriptions = new Map();
  const self = randomUUID();
  // Subscriptions are kept by ioredis and re-sent after a reconnect; the offline queue lets a
  // subscribe issued while Redis is away wait for it.
  const sub = redis.client.duplicate({ enableOfflineQueue: true });
  sub.on('error', () => undefined); // the main connection already logs Redis trouble
  const reconnected = new Set<() => void>();
  let wasReady = false;
  // 'ready' comes after the first connect and after every reconnect (subscriptions re-sent).
  sub.on('ready', () => {
    if (wasReady) for (const h of reconnected) h();
    wasReady = true;
  });
  sub.on('message', (channel: string, message: string) => deliverRemote(subs, self, channel.slice(prefix.length), message, logger));
  return {
    async publish(topic, payload) {
      dispatch(subs.get(topic.name), payload, logger);
      try {
        await redis.run((r) => r.publish(prefix + topic.name, encode(self, payload)));
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message }, topic: topic.name }, 'bus publish failed; subscribers catch up when their caches expire');
      }
    },
    subscribe(topic, handler) {
      return addHandler(subs, topic, handler, () => {
        sub.subscribe(prefix + topic.name).catch((err: Error) => logger.warn({ err: { message: err.message }, topic: topic.name }, 'bus subscribe failed'));
      });
    },
    onReconnect(handler) {
      reconnected.add(handler);
      return () => void reconnected.delete(handler);
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
  const subs: Subscriptions = new Map();
  const self = randomUUID();
  // One connection, so events from this process arrive in the order they were published.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, application_name: 'hearth-bus', connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  let listener: pg.Client | undefined;
  // One LISTEN connection per process, however many topics subscribe while it connects.
  let connecting = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const reconnected = new Set<() => void>();
  let listenedBefore = false;

  const listen = async (attempt = 0): Promise<void> => {
    if (closed || listener || (connecting && attempt === 0)) return;
    // Stays set through the retries, so a subscription meanwhile does not start a second one.
    connecting = true;
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hearth-bus-listen', connectionTimeoutMillis: 2_000 });
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
    if (listenedBefore) for (const h of reconnected) h();
    listenedBefore = true;
    client.on('notification', (n) => {
      if (!n.payload) return;
      const sep = n.payload.indexOf('\n');
      if (sep > 0) deliverRemote(subs, self, n.payload.slice(0, sep), n.payload.slice(sep + 1), logger);
    });
    client.on('error', () => {
      listener = undefined;
      void client.end().catch(() => undefined);
      if (!closed) void listen();
    });
  };

  return {
    async publish(topic, payload) {
      dispatch(subs.get(topic.name), payload, logger);
      try {
        await pool.query('select pg_notify($1, $2)', [PG_CHANNEL, `${topic.name}\n${encode(self, payload)}`]);
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message }, topic: topic.name }, 'bus publish failed; subscribers catch up when their caches expire');
      }
    },
    subscribe(topic, handler) {
      return addHandler(subs, topic, handler, () => void listen());
    },
    onReconnect(handler) {
      reconnected.add(handler);
      return () => void reconnected.delete(handler);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
