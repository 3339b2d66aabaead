import { defineTopic } from '@hearth/db';
import { z } from 'zod';

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/**
 * chat.message: a message of a circle was stored or changed (published after commit):
 * created, edited, deleted, or marked (its reactions or pin changed). It names
 * the message and its seq only: whoever delivers it reads the message from Postgres by seq, so
 * the bus never carries a body, and a lost event is healed by reading on from the last seq.
 * (The realtime gateway subscribes to it when it is built; the definition moves to a package
 * both import then.)
 */
export const chatMessageTopic = defineTopic(
  'chat.message',
  z.object({ circleId: uuid, messageId: uuid, seq: z.number().int().positive(), change: z.enum(['created', 'edited', 'deleted', 'marked']) }),
);
export type ChatMessageEvent = z.output<typeof chatMessageTopic.payload>;

/** chat.read-marker: a person's read position in a circle moved (for their other devices). */
export const readMarkerTopic = defineTopic(
  'chat.read-marker',
  z.object({ userId: uuid, circleId: uuid, lastReadSeq: z.number().int().nonnegative() }),
);
export type ReadMarkerEvent = z.output<typeof readMarkerTopic.payload>;
