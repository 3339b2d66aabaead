import type { ConfigSpec, ServiceName } from '@hearth/config';
import type { ServiceDefinition } from '@hearth/platform';
import { authService } from '@hearth/service-auth';
import { circleService } from '@hearth/service-circle';
import { moderationService } from '@hearth/service-moderation';
import { postService } from '@hearth/service-post';
import { realtimeService } from '@hearth/service-realtime';
import { supportService } from '@hearth/service-support';
import { userService } from '@hearth/service-user';

/** Every service the harness can start, by name. */
export const definitions = {
  auth: authService,
  user: userService,
  circle: circleService,
  post: postService,
  moderation: moderationService,
  support: supportService,
  realtime: realtimeService,
} as const satisfies Record<ServiceName, unknown>;

export type Definitions = typeof definitions;
export type Name = keyof Definitions;

/** The module a service's definition builds (e.g. CircleApp for "circle"). */
export type ModuleOf<K extends Name> = ReturnType<Definitions[K]['create']>;

/** What a service's composition root lets tests swap (its `overrides`). */
export type OverridesOf<K extends Name> =
  Definitions[K] extends ServiceDefinition<ConfigSpec, infer O, infer _M> ? Partial<O> : never;
