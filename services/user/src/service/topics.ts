import { defineTopic } from '@hearth/db';
import { z } from 'zod';

/** user.account: a person's roles or account state changed (published after commit). */
export const accountTopic = defineTopic(
  'user.account',
  z.object({
    userId: z.string(),
    state: z.enum(['active', 'suspended', 'deleted']),
    roles: z.array(z.enum(['user', 'moderator', 'admin'])),
  }),
);
