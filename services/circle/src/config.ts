import { type ConfigSpec, type ServiceConfig, env, keyRingEnv, schemas } from '@hearth/config';

/** Variables only the circle service reads (prefix HEARTH_CIRCLE_). The shared ones are in @hearth/config. */
export const circleConfigSpec = {
  messageKeys: keyRingEnv(
    'HEARTH_CIRCLE_MESSAGE_KEYS',
    'the key ring chat message bodies are encrypted with at rest (AES-256-GCM): comma-separated <id>:<base64 of 32 random bytes>, the first used for new messages, the others still read (rotate by putting a new key first). Required, keep it in a secret store',
  ),
  limits: {
    sendsPerMinute: env('HEARTH_CIRCLE_SENDS_PER_MINUTE', schemas.positiveInt(30, 10_000), 'chat messages one person may send per minute, over all circles'),
    duplicates: env('HEARTH_CIRCLE_DUPLICATE_SENDS', schemas.positiveInt(3, 1_000), 'how often one person may send the same text within the duplicate window'),
    duplicateWindowSec: env('HEARTH_CIRCLE_DUPLICATE_WINDOW_SEC', schemas.positiveInt(60, 86_400), 'the window of HEARTH_CIRCLE_DUPLICATE_SENDS, in seconds'),
  },
} as const satisfies ConfigSpec;

export type CircleConfig = ServiceConfig<typeof circleConfigSpec>;
