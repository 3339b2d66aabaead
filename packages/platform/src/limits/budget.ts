import { Code, ConnectError } from '@connectrpc/connect';
import { type CounterBackend, type CounterSpec, whileAvailable } from './stores.js';

/**
 * An abuse limit on writes: so many per key (a person; a person and a text) in a fixed window,
 * checked before a write and counted once it has committed, so a retry that returns what was
 * stored never counts and a refused write leaves nothing. Concurrent writes of one key can pass
 * the check together: a limit against floods, not an exact quota. Counted in the store while it
 * is available (Redis), else in this process's memory, never waiting on a store that is down.
 */
export class WriteBudget {
  readonly #limiter: ReturnType<typeof whileAvailable>;

  constructor(
    backend: CounterBackend,
    private readonly spec: CounterSpec & {
      /** What a refused caller is told ("at most 30 messages a minute; wait a moment"). */
      readonly refusal: string;
    },
    available: () => boolean = () => true,
  ) {
    this.#limiter = whileAvailable(backend, spec, available);
  }

  /** ResourceExhausted, with `retry-after` in seconds, once `key` has used the budget up. */
  async check(key: string): Promise<void> {
    const used = await this.#limiter().get(key);
    if (used && used.consumedPoints >= this.spec.points) throw exhausted(this.spec.refusal, used.msBeforeNext);
  }

  /** Counts a committed write. Never throws: a count lost to an outage only weakens the limit. */
  async count(key: string): Promise<void> {
    await this.#limiter()
      .penalty(key)
      .then(
        () => undefined,
        () => undefined,
      );
  }
}

/** ResourceExhausted with a `retry-after` header in whole seconds (at least 1). */
export function exhausted(message: string, msBeforeNext: number): ConnectError {
  return new ConnectError(message, Code.ResourceExhausted, { 'retry-after': String(Math.max(1, Math.ceil(msBeforeNext / 1000))) });
}
