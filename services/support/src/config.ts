import type { ConfigSpec, ServiceConfig } from '@hearth/config';

/** Variables only the support service reads (prefix HEARTH_SUPPORT_). The shared ones are in @hearth/config. */
export const supportConfigSpec = {} as const satisfies ConfigSpec;

export type SupportConfig = ServiceConfig<typeof supportConfigSpec>;
