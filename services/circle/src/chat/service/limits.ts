import { type CounterBackend, WriteBudget } from '@hearth/platform';

export interface ChatLimitsConfig {
  /** Messages one person may send per minute, over all circles. */
  readonly sendsPerMinute: number;
  /** How often one person may send the same body within `duplicateWindowSec`. */
  readonly duplicates: number;
  readonly duplicateWindowSec: number;
}

/**
 * Abuse limits on sending (ADR 0007), counted with the limiter the auth service uses through
 * @hearth/platform's WriteBudget: checked before a message is stored, counted once it has
 * committed, so a retry that returns the stored message (same client_message_id) never counts
 * and a refused send leaves nothing behind.
 */
export class ChatLimits {
  readonly #sends: WriteBudget;
  readonly #duplicates: WriteBudget;

  /** `available`: false while the store is known to be down (the Redis breaker is open). */
  constructor(backend: CounterBackend, config: ChatLimitsConfig, available: () => boolean = () => true) {
    this.#sends = new WriteBudget(
      backend,
      { name: 'chat_send', points: config.sendsPerMinute, durationSec: 60, refusal: `at most ${config.sendsPerMinute} messages a minute; wait a moment` },
      available,
    );
    this.#duplicates = new WriteBudget(
      backend,
      {
        name: 'chat_duplicate',
        points: config.duplicates,
        durationSec: config.duplicateWindowSec,
        refusal: 'the same message was just sent several times; wait before sending it again',
      },
      available,
    );
  }

  /**
   * Refuses with ResourceExhausted (and `retry-after` seconds) when `userId` has used up a
   * budget; `bodyKey` identifies the body (a keyed digest, never the text).
   */
  async check(userId: string, bodyKey: string): Promise<void> {
    await Promise.all([this.#sends.check(userId), this.#duplicates.check(`${userId}:${bodyKey}`)]);
  }

  /** Counts a stored message. Never throws: a count lost to an outage only weakens a limit. */
  async count(userId: string, bodyKey: string): Promise<void> {
    await Promise.all([this.#sends.count(userId), this.#duplicates.count(`${userId}:${bodyKey}`)]);
  }
}
