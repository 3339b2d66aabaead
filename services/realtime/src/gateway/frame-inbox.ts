/** How much may wait behind a frame that is still being handled. */
export interface InboxBounds {
  readonly maxFrames: number;
  readonly maxBytes: number;
}

interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/**
 * A socket's incoming messages, handled one at a time in arrival order. A handler that returns a
 * promise (Hello, while its token is verified) holds the messages behind it until it settles, so
 * an app may send frames right after Hello without waiting for Welcome and still have them
 * answered in order, after Welcome. Messages wait undecoded (an invalid one is refused in its
 * turn, not ahead of earlier ones) and the wait is bounded in count and bytes, so a socket that
 * is not yet authenticated cannot park more than one frame's worth of memory.
 */
export class FrameInbox {
  private readonly waiting: Received[] = [];
  private waitingBytes = 0;
  private busy = false;
  private stopped = false;

  constructor(
    private readonly bounds: InboxBounds,
    private readonly handle: (data: Buffer, isBinary: boolean) => void | Promise<void>,
    /** A handler threw or rejected: a bug, reported instead of crashing the process. */
    private readonly onHandlerError: (err: unknown) => void,
  ) {}

  /** Takes a message; false when it would overflow the bounds (it is then dropped). */
  push(data: Buffer, isBinary: boolean): boolean {
    if (this.stopped) return true;
    if (!this.busy) {
      this.drain({ data, isBinary });
      return true;
    }
    if (this.waiting.length >= this.bounds.maxFrames || this.waitingBytes + data.length > this.bounds.maxBytes) return false;
    this.waiting.push({ data, isBinary });
    this.waitingBytes += data.length;
    return true;
  }

  /** Drops what waits and ignores what comes; the socket is closing. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
    this.waitingBytes = 0;
  }

  private drain(first?: Received): void {
    let next = first ?? this.shift();
    while (next && !this.stopped) {
      let pending: void | Promise<void>;
      try {
        pending = this.handle(next.data, next.isBinary);
      } catch (err) {
        return this.onHandlerError(err);
      }
      if (pending) {
        this.busy = true;
        pending.then(
          () => {
            this.busy = false;
            this.drain();
          },
          (err: unknown) => {
            this.busy = false;
            this.onHandlerError(err);
          },
        );
        return;
      }
      next = this.shift();
    }
  }

  private shift(): Received | undefined {
    const next = this.waiting.shift();
    if (next) this.waitingBytes -= next.data.length;
    return next;
  }
}
