import { type ConfigSpec, type ServiceConfig, env, schemas, z } from '@hearth/config';

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Variables only the user service reads (prefix HEARTH_USER_). The shared ones are in @hearth/config. */
export const userConfigSpec = {
  mediaHosts: env(
    'HEARTH_USER_MEDIA_HOSTS',
    schemas
      .list(['media.hearth.app'])
      .pipe(z.array(z.string().regex(HOST_NAME, 'must be lower-case host names, e.g. media.hearth.app')).min(1, 'must name at least one host')),
    'comma-separated host names avatar URLs may point at (https only); other hosts would learn who views a profile',
  ),
  deletedRetentionDays: env(
    'HEARTH_USER_DELETED_RETENTION_DAYS',
    schemas.positiveInt(30, 3_650),
    'days a deleted account is kept (display fields already emptied) before it is purged and its handle freed',
  ),
} as const satisfies ConfigSpec;

export type UserConfig = ServiceConfig<typeof userConfigSpec>;
