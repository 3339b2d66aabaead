import { type ConfigSpec, type ServiceConfig, env, keyRingEnv, schemas } from '@hearth/config';

/** Variables only the support service reads (prefix HEARTH_SUPPORT_). The shared ones are in @hearth/config. */
export const supportConfigSpec = {
  planKeys: keyRingEnv(
    'HEARTH_SUPPORT_PLAN_KEYS',
    'the key ring safety plans (and other private support texts) are encrypted with at rest (AES-256-GCM): comma-separated <id>:<base64 of 32 random bytes>, the first used for new writes, the others still read (rotate by putting a new key first). Required, keep it in a secret store',
  ),
  maxOpenRequests: env('HEARTH_SUPPORT_MAX_OPEN_REQUESTS', schemas.positiveInt(3, 100), 'support requests one person may have open (or matched) at once'),
} as const satisfies ConfigSpec;

export type SupportConfig = ServiceConfig<typeof supportConfigSpec>;
