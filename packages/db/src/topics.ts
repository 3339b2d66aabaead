import type { z } from 'zod';

/**
 * A kind of live event on the bus, named once with its payload type. Publishers and subscribers
 * import the same definition, so a topic name is never typed twice and a payload is never cast:
 * the bus (in @hearth/platform) checks every payload that arrives from another process against
 * `payload` and drops what does not fit.
 */
export interface Topic<T> {
  readonly name: string;
  readonly payload: z.ZodType<T>;
}

const TOPIC_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/** Declares a topic, e.g. `defineTopic('circle.membership', z.object({ ... }))`. */
export function defineTopic<S extends z.ZodType>(name: string, payload: S): Topic<z.output<S>> {
  if (!TOPIC_NAME.test(name)) throw new Error(`invalid topic name ${JSON.stringify(name)}: use dotted lower-case words`);
  return { name, payload: payload as unknown as z.ZodType<z.output<S>> };
}

/** The publishing half of the bus; what services are given. */
export interface EventPublisher {
  /** Publishes after the change committed. Never throws: a lost event only delays a cache. */
  publish<T>(topic: Topic<T>, payload: T): Promise<void>;
}

/**
 * Live events between processes (membership and block changes, later chat fan-out). Delivery is
 * at most once: a subscriber that is away misses events, so nothing durable may depend on the
 * bus; caches that listen to it also expire on their own within seconds.
 */
export interface EventBus extends EventPublisher {
  /** Calls `handler` for every event on `topic` until the returned function is called. */
  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): () => void;
  /**
   * Calls `handler` each time the bus's listening connection comes back after being lost:
   * whatever was published meanwhile did not arrive, so listeners that must not miss anything
   * (the realtime gateway) read on from their store then.
   */
  onReconnect(handler: () => void): () => void;
  close(): Promise<void>;
}
