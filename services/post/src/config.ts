import { type ConfigSpec, type ServiceConfig, env, keyRingEnv, schemas } from '@hearth/config';

/** Variables only the post service reads (prefix HEARTH_POST_). The shared ones are in @hearth/config. */
export const postConfigSpec = {
  bodyKeys: keyRingEnv(
    'HEARTH_POST_BODY_KEYS',
    'the key ring post and response bodies are encrypted with at rest (AES-256-GCM): comma-separated <id>:<base64 of 32 random bytes>, the first used for new writes, the others still read (rotate by putting a new key first). Required, keep it in a secret store',
  ),
  deletedRetentionDays: env(
    'HEARTH_POST_DELETED_RETENTION_DAYS',
    schemas.positiveInt(30, 3_650),
    'days a deleted post or response is kept as a tombstone (its text already erased) before it is purged with its responses and reactions',
  ),
  limits: {
    writesPerMinute: env('HEARTH_POST_WRITES_PER_MINUTE', schemas.positiveInt(20, 10_000), 'posts and responses (new or edited) one person may write per minute'),
    reactionsPerMinute: env('HEARTH_POST_REACTIONS_PER_MINUTE', schemas.positiveInt(60, 10_000), 'reactions one person may add per minute'),
  },
} as const satisfies ConfigSpec;

export type PostConfig = ServiceConfig<typeof postConfigSpec>;
