import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { waitAtMost } from '@hearth/platform';

/** The two places a reservation can be counted. */
export interface InFlightCounters {
  /** The shared store's counter, without fallback: its failures are seen here. */
  readonly store: RateLimiterAbstract;
  /** This process's memory: where a reservation goes while the store fails or stalls. */
  readonly local: RateLimiterAbstract;
}

export interface InFlightOptions {
  /** How long the counters keep a reservation nobody released (a crashed process). */
  readonly lifeMs: number;
  /** How long one store call may take before the reservation is made in memory instead. */
  readonly timeoutMs: number;
  readonly now?: () => number;
}

interface Hold {
  readonly counter: RateLimiterAbstract;
  readonly key: string;
  /** After this the counter has forgotten the reservation by itself. */
  readonly until: number;
}

/** Pause before a release the store refused is tried again, when no new attempt tries it first. */
const RETRY_MS = 500;

/**
 * Login attempts between `checkLogin` and their outcome, counted per subject across replicas, so
 * parallel guesses are seen before their failures are (ADR 0005).
 *
 * A reservation left behind counts as an attempt until it expires and refuses logins that did
 * nothing wrong, so every one is released where it was made: in the store, or in memory when the
 * store failed or stalled. An increment that reaches the store after we stopped waiting for it is
 * taken back as soon as it lands; a release the store refuses is tried again until the counter
 * has forgotten the reservation anyway. A new reservation first waits (at most one store timeout)
 * for this process's outstanding take-backs, so its count does not include them.
 */
export class InFlight {
  /** Reservations this process holds, per key, oldest first. */
  readonly #held = new Map<string, Hold[]>();
  /** Releases the store refused, to try again. */
  #refused: Hold[] = [];
  /** Take-backs on their way to the store after a failure: late increments, retried releases. */
  readonly #owed = new Set<Promise<void>>();
  #retry: NodeJS.Timeout | undefined;
  #sweptAt = 0;
  readonly #now: () => number;

  constructor(
    private readonly counters: InFlightCounters,
    private readonly opts: InFlightOptions,
  ) {
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Reserves one attempt under `key`; resolves with how many are in flight, this one included.
   * Never rejects: a store that fails or stalls is replaced by memory.
   */
  async reserve(key: string): Promise<number> {
    this.#retryRefused();
    if (this.#owed.size > 0) await waitAtMost(Promise.all(this.#owed), this.opts.timeoutMs);
    const until = this.#now() + this.opts.lifeMs;
    const sent = this.counters.store.penalty(key);
    const res = await waitAtMost(sent, this.opts.timeoutMs);
    if (res) {
      this.#hold({ counter: this.counters.store, key, until });
      return res.consumedPoints;
    }
    // Either nothing reached the store, or it lands later: then it is taken back when it does.
    this.#owe(
      sent.then(
        () => this.#undo({ counter: this.counters.store, key, until }),
        () => undefined,
      ),
    );
    const local = await this.counters.local.penalty(key);
    this.#hold({ counter: this.counters.local, key, until });
    return local.consumedPoints;
  }

  /**
   * Ends one reservation of `key` held by this process (none: nothing to do). Waits at most one
   * store timeout; the release goes on behind it if the store is slow.
   */
  async release(key: string): Promise<void> {
    const hold = this.#take(key);
    if (hold) await waitAtMost(this.#undo(hold), this.opts.timeoutMs);
  }

  #hold(hold: Hold): void {
    this.#sweep();
    const holds = this.#held.get(hold.key);
    if (holds) holds.push(hold);
    else this.#held.set(hold.key, [hold]);
  }

  #take(key: string): Hold | undefined {
    const holds = this.#held.get(key);
    const hold = holds?.shift();
    if (holds?.length === 0) this.#held.delete(key);
    // Expired by the counter already: releasing it now would take back someone else's.
    if (hold && hold.until <= this.#now()) return this.#take(key);
    return hold;
  }

  /** Forgets, once per reservation life, the reservations whose caller never ended them. */
  #sweep(): void {
    const now = this.#now();
    if (now - this.#sweptAt < this.opts.lifeMs) return;
    this.#sweptAt = now;
    for (const [key, holds] of this.#held) {
      const live = holds.filter((h) => h.until > now);
      if (live.length === 0) this.#held.delete(key);
      else this.#held.set(key, live);
    }
  }

  #owe(work: Promise<void>): Promise<void> {
    this.#owed.add(work);
    void work.finally(() => this.#owed.delete(work));
    return work;
  }

  /** Takes one reservation back from its counter; never rejects. */
  async #undo(hold: Hold): Promise<void> {
    let res;
    try {
      res = await hold.counter.reward(hold.key);
    } catch {
      // Only a store fails (memory does not). Tried again only once the store has answered with
      // an error: a release still on its way may land, and two would admit one attempt too many.
      this.#refused.push(hold);
      if (this.#retry === undefined) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.#retryRefused();
        }, RETRY_MS).unref();
      }
      return;
    }
    // The counter's window ended before this release: the reward started a new window below
    // zero, which would admit one attempt too many in it.
    if (res.consumedPoints < 0) await hold.counter.delete(hold.key).catch(() => undefined);
  }

  #retryRefused(): void {
    const now = this.#now();
    const due = this.#refused.filter((h) => h.until > now);
    this.#refused = [];
    for (const hold of due) this.#owe(this.#undo(hold));
  }
}
