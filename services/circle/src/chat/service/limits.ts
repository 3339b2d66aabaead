import { Code, ConnectError } from '@connectrpc/connect';
import { type CounterBackend, whileAvailable } from '@hearth/platform';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

export interface ChatLimitsConfig {
  /** Messages one person may send per minute, over all circles. */
  readonly sendsPerMinute: number;
  /** How often one person may send the same body within `duplicateWindowSec`. */
  readonly duplicates: number;
  readonly duplicateWindowSec: number;
}

/**
 * Abuse limits on sending, counted with the limiter the auth service uses (rate-limiter-flexible
 * through @hearth/platform's stores: Redis when configured, this process's memory while Redis is
 * away or absent: while the Redis breaker is open no call waits for it). A send is checked before it is stored and counted once it has committed, so a
 * retry that returns the stored message (same client_message_id) never counts, and a refused
 * send leaves nothing behind. Concurrent sends from one person can pass the check together: a
 * limit against floods, not an exact quota.
 */
export class ChatLimits {
  readonly #sends: () => RateLimiterAbstract;
  readonly #duplicates: () => RateLimiterAbstract;

  /** `available`: false while the store is known to be down (the Redis breaker is open). */
  constructor(
    backend: CounterBackend,
    private readonly config: ChatLimitsConfig,
    available: () => boolean = () => true,
  ) {
    this.#sends = whileAvailable(backend, { name: 'chat_send', points: config.sendsPerMinute, durationSec: 60 }, available);
    this.#duplicates = whileAvailable(backend, { name: 'chat_duplicate', points: config.duplicates, durationSec: config.duplicateWindowSec }, available);
  }

  /**
   * Refuses with ResourceExhausted (and `retry-after` seconds) when `userId` has used up a
   * budget; `bodyKey` identifies the body (a keyed digest, never the text).
   */
  async check(userId: string, bodyKey: string): Promise<void> {
    const [sends, same] = await Promise.all([this.#sends().get(userId), this.#duplicates().get(`${userId}:${bodyKey}`)]);
    if (sends && sends.consumedPoints >= this.config.sendsPerMinute) {
      throw refused(`at most ${this.config.sendsPerMinute} messages a minute; wait a moment`, sends.msBeforeNext);
    }
    if (same && same.consumedPoints >= this.config.duplicates) {
      throw refused('the same message was just sent several times; wait before sending it again', same.msBeforeNext);
    }
  }

  /** Counts a stored message. Never throws: a count lost to an outage only weakens a limit. */
  async count(userId: string, bodyKey: string): Promise<void> {
    await Promise.all([this.#sends().penalty(userId), this.#duplicates().penalty(`${userId}:${bodyKey}`)]).catch(() => undefined);
  }
}

function refused(message: string, msBeforeNext: number): ConnectError {
  return new ConnectError(message, Code.ResourceExhausted, { 'retry-after': String(Math.max(1, Math.ceil(msBeforeNext / 1000))) });
}
