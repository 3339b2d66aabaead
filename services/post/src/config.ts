import type { ConfigSpec, ServiceConfig } from '@hearth/config';

/** Variables only the post service reads (prefix HEARTH_POST_). The shared ones are in @hearth/config. */
export const postConfigSpec = {} as const satisfies ConfigSpec;

export type PostConfig = ServiceConfig<typeof postConfigSpec>;
