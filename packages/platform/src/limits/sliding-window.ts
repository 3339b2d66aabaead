import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Sub-buckets per window. The count covers the last window plus at most one bucket (1/15 of
 * it), so it errs towards refusing and never admits more than the limit in any window-long
 * interval (ADR 0005).
 */
export const BUCKETS_PER_WINDOW = 15;

/**
 * A sliding-window counter made of the limiter library's fixed-window counters: one library
 * key per sub-bucket (`<key>:<bucket index>`), incremented atomically by the store (Redis
 * INCR, Postgres upsert), and a count that sums the buckets still inside the window.
 * The library's counter must live at least `storeDurationSec(windowSec)`.
 */
export class SlidingWindow {
  readonly #bucketMs: number;

  constructor(
    private readonly counter: RateLimiterAbstract,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#bucketMs = windowMs / BUCKETS_PER_WINDOW;
  }

  /** How long the store must keep a bucket: until it has left the window. */
  static storeDurationSec(windowSec: number): number {
    return Math.ceil(windowSec * (1 + 1 / BUCKETS_PER_WINDOW)) + 1;
  }

  /** Adds one event now and returns the count including it. */
  async add(key: string): Promise<WindowCount> {
    const at = this.now();
    await this.counter.penalty(`${key}:${this.#bucket(at)}`);
    return this.#count(key, at);
  }

  /** Adds one event now, for a caller that does not need the count (one store call, not 17). */
  async record(key: string): Promise<void> {
    await this.counter.penalty(`${key}:${this.#bucket(this.now())}`);
  }

  count(key: string): Promise<WindowCount> {
    return this.#count(key, this.now());
  }

  async reset(key: string): Promise<void> {
    await Promise.all(this.#indexes(this.now()).map((i) => this.counter.delete(`${key}:${i}`)));
  }

  async #count(key: string, at: number): Promise<WindowCount> {
    const indexes = this.#indexes(at);
    const found = await Promise.all(indexes.map((i) => this.counter.get(`${key}:${i}`)));
    // A bucket leaves the count once its end is a whole window in the past.
    const buckets = indexes.map((i, n) => ({ leavesAt: (i + 1) * this.#bucketMs + this.windowMs, events: found[n]?.consumedPoints ?? 0 }));
    return new WindowCount(buckets, at);
  }

  #bucket(at: number): number {
    return Math.floor(at / this.#bucketMs);
  }

  /** The buckets still in the window at `at`, oldest first. */
  #indexes(at: number): number[] {
    const newest = this.#bucket(at);
    return Array.from({ length: BUCKETS_PER_WINDOW + 1 }, (_, n) => newest - BUCKETS_PER_WINDOW + n);
  }
}

/** Events in the window at one moment, and when older ones leave it. */
export class WindowCount {
  readonly total: number;

  constructor(
    private readonly buckets: ReadonlyArray<{ leavesAt: number; events: number }>,
    private readonly at: number,
  ) {
    this.total = buckets.reduce((sum, b) => sum + b.events, 0);
  }

  /** Milliseconds until at most `target` events are in the window (0 if already). */
  msUntilAtMost(target: number): number {
    let remaining = this.total;
    if (remaining <= target) return 0;
    for (const b of this.buckets) {
      remaining -= b.events;
      if (remaining <= target) return Math.max(0, b.leavesAt - this.at);
    }
    return 0;
  }
}
