import type { ConfigSpec, ServiceConfig } from '@hearth/config';

/** Variables only the circle service reads (prefix HEARTH_CIRCLE_). The shared ones are in @hearth/config. */
export const circleConfigSpec = {} as const satisfies ConfigSpec;

export type CircleConfig = ServiceConfig<typeof circleConfigSpec>;
