import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { type AuthLimitsConfig, buildAuthLimits } from './auth-limits.js';
import { memoryBackend, postgresBackend, redisBackend } from '@hearth/platform';
import type { AuthLimits } from './types.js';

export { type AuthLimitsConfig, defaultAuthLimitsConfig } from './auth-limits.js';
export { type PasswordVerdict, passwordAttempt } from './password-attempt.js';
export type { AuthLimits, LoginKey } from './types.js';

/**
 * The auth service's abuse limits, counted in Redis if given, else in Postgres
 * (`<schema>.rate_limits`) if given, else in this process's memory. See ADR 0005 for the
 * budgets and the window semantics. `keyPrefix` goes in front of every key (tests isolate
 * themselves with it); `timeoutMs` is how long one store call may take before this process
 * counts in memory instead (default 1 s; tests of a stalled store shorten it).
 */
export function createAuthLimits(opts: {
  config: AuthLimitsConfig;
  redis?: Redis;
  postgres?: { pool: Pool; schema: string };
  keyPrefix?: string;
  timeoutMs?: number;
}): AuthLimits {
  const prefix = opts.keyPrefix ?? '';
  const backend = opts.redis
    ? redisBackend(opts.redis, prefix)
    : opts.postgres
      ? postgresBackend(opts.postgres.pool, opts.postgres.schema, prefix, opts.timeoutMs)
      : memoryBackend(prefix);
  return buildAuthLimits(opts.config, backend, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
}
