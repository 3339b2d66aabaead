import type { EventPublisher, FieldCipher, Tx } from '@hearth/db';
import { newId } from '@hearth/db';
import type { CirclesTables } from '../../store/schema.js';
import { chatMessageTopic } from '@hearth/authz';
import { messageStore } from '../store/messages.js';

/**
 * Messages of the system in a circle's sequence: someone joined or left, and the welcome on a
 * person's first join, which shows the circle's guidelines. They have no sender (no fake user
 * account), name the person they are about, and take the next seq like any message, inside the
 * membership change's own transaction (which already holds the circle's row lock).
 */
export class SystemMessages {
  constructor(private readonly d: { readonly cipher: FieldCipher; readonly bus: EventPublisher }) {}

  /** `userId` joined: "joined", then a welcome with `guidelines` unless they had one before. */
  async joined(tx: Tx<CirclesTables>, circleId: string, userId: string, guidelines: string, now: Date): Promise<void> {
    await this.append(tx, circleId, 'joined', userId, now);
    if (!(await messageStore.hasWelcome(tx, circleId, userId))) await this.append(tx, circleId, 'welcome', userId, now, guidelines);
  }

  /** `userId` left the circle, or was removed from it. */
  async left(tx: Tx<CirclesTables>, circleId: string, userId: string, now: Date): Promise<void> {
    await this.append(tx, circleId, 'left', userId, now);
  }

  private async append(tx: Tx<CirclesTables>, circleId: string, kind: 'joined' | 'left' | 'welcome', subject: string, now: Date, body?: string): Promise<void> {
    const next = await messageStore.nextSeq(tx, circleId);
    if (!next) return;
    const id = newId();
    const sealed = body ? this.d.cipher.seal(body, id) : undefined;
    await messageStore.insert(tx, {
      id,
      circle_id: circleId,
      seq: next.seq,
      kind,
      subject_user_id: subject,
      body: sealed?.data ?? null,
      body_key_id: sealed?.keyId ?? null,
      create_time: now,
    });
    tx.onCommit(() => this.d.bus.publish(chatMessageTopic, { circleId, messageId: id, seq: next.seq, change: 'created' }));
  }
}
