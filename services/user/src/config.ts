import type { ConfigSpec, ServiceConfig } from '@hearth/config';

/** Variables only the user service reads (prefix HEARTH_USER_). The shared ones are in @hearth/config. */
export const userConfigSpec = {} as const satisfies ConfigSpec;

export type UserConfig = ServiceConfig<typeof userConfigSpec>;
