import type { ConfigSpec, ServiceConfig } from '@hearth/config';

/** Variables only the moderation service reads (prefix HEARTH_MODERATION_). The shared ones are in @hearth/config. */
export const moderationConfigSpec = {} as const satisfies ConfigSpec;

export type ModerationConfig = ServiceConfig<typeof moderationConfigSpec>;
