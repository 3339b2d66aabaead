import { type Client, Code, ConnectError } from '@connectrpc/connect';
import type { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import type { Message } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';

/** Where an outgoing message is: on its way, stored (with the stored message), or given up on. */
export type OutgoingState = 'pending' | 'sent' | 'failed';

export interface Outgoing {
  /** The idempotency key, kept for every attempt, so a retry never stores the message twice. */
  readonly clientMessageId: string;
  readonly circleId: string;
  readonly body: string;
  readonly threadRootId?: string;
  readonly mentionUserIds: readonly string[];
  state: OutgoingState;
  /** The stored message, once sent. */
  message?: Message;
  /** Why it failed, once failed. */
  error?: ConnectError;
  attempts: number;
}

export interface OutboxOptions {
  /** Told of every state change (render pending, sent and failed messages from it). */
  readonly onChange?: (o: Outgoing) => void;
  /** Attempts before a message whose failures are transient is marked failed. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff between transient failures: from `initialMs`, doubling, jittered. Default 500 ms. */
  readonly initialBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Makes client_message_ids; default crypto.randomUUID. */
  readonly newId?: () => string;
}

/** Failures that the same request may get past later; anything else is final. */
const TRANSIENT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Aborted, Code.Internal, Code.Unknown, Code.ResourceExhausted]);

/**
 * Optimistic sending (the SDK's outbox): `send` shows the message as pending at once and sends
 * it in the background; a transient failure (the network, a restart, the send limit) is retried
 * with the same client_message_id, after `retry-after` when the server gave one, so the
 * message is stored once however many attempts it takes; a final failure (a mute, the circle
 * archived, bad input) marks it failed, and `retry` sends it again, still under its first id.
 */
export class ChatOutbox {
  private readonly items = new Map<string, Outgoing>();
  private readonly waiters = new Map<Outgoing, Array<() => void>>();

  constructor(
    private readonly chat: Client<typeof ChatService>,
    private readonly opts: OutboxOptions = {},
  ) {}

  send(circleId: string, body: string, extra: { threadRootId?: string; mentionUserIds?: readonly string[] } = {}): Outgoing {
    const o: Outgoing = {
      clientMessageId: (this.opts.newId ?? (() => crypto.randomUUID()))(),
      circleId,
      body,
      ...(extra.threadRootId ? { threadRootId: extra.threadRootId } : {}),
      mentionUserIds: extra.mentionUserIds ?? [],
      state: 'pending',
      attempts: 0,
    };
    this.items.set(o.clientMessageId, o);
    this.opts.onChange?.(o);
    void this.deliver(o);
    return o;
  }

  /** Sends a failed message again, under the same client_message_id. */
  retry(o: Outgoing): void {
    if (o.state !== 'failed') return;
    o.state = 'pending';
    delete o.error;
    o.attempts = 0;
    this.opts.onChange?.(o);
    void this.deliver(o);
  }

  /** Messages not yet sent (pending or failed), oldest first. */
  unsent(): Outgoing[] {
    return [...this.items.values()].filter((o) => o.state !== 'sent');
  }

  /** Resolves once `o` is sent or failed. */
  settled(o: Outgoing): Promise<Outgoing> {
    if (o.state !== 'pending') return Promise.resolve(o);
    return new Promise((resolve) => {
      const list = this.waiters.get(o) ?? [];
      list.push(() => resolve(o));
      this.waiters.set(o, list);
    });
  }

  private settle(o: Outgoing): void {
    this.opts.onChange?.(o);
    for (const done of this.waiters.get(o) ?? []) done();
    this.waiters.delete(o);
  }

  private async deliver(o: Outgoing): Promise<void> {
    const maxAttempts = this.opts.maxAttempts ?? 5;
    const wait = this.opts.sleep ?? sleep;
    for (;;) {
      o.attempts++;
      try {
        const { message } = await this.chat.sendMessage({
          circleId: o.circleId,
          clientMessageId: o.clientMessageId,
          body: o.body,
          ...(o.threadRootId ? { threadRootId: o.threadRootId } : {}),
          mentionUserIds: [...o.mentionUserIds],
        });
        o.state = 'sent';
        if (message) o.message = message;
        this.items.delete(o.clientMessageId);
        this.settle(o);
        return;
      } catch (err) {
        const e = ConnectError.from(err);
        const retryAfter = Number(e.metadata.get('retry-after'));
        // The send limit is not an attempt used up when it says when to come back.
        const limited = e.code === Code.ResourceExhausted && Number.isFinite(retryAfter);
        if (!TRANSIENT.has(e.code) || (!limited && o.attempts >= maxAttempts)) {
          o.state = 'failed';
          o.error = e;
          this.settle(o);
          return;
        }
        if (limited) o.attempts--;
        const base = (this.opts.initialBackoffMs ?? 500) * 2 ** (o.attempts - 1);
        const ms = limited ? retryAfter * 1000 : base / 2 + (base / 2) * (this.opts.random ?? Math.random)();
        await wait(ms);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
