import type { Client } from '@connectrpc/connect';
import { SERVICE_TOKEN_HEADER, type SessionDenyList, ServiceTokens } from '@hearth/authz';
import { type ServiceConfig, loadServiceConfig } from '@hearth/config';
import type { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import type { Database } from '@hearth/db';
import type { Host } from '@hearth/platform';
export { refusal } from '@hearth/testkit';
import { TEST_KEY_ENCRYPTION_KEY, type TestSystem, baseEnv, startTestSystem } from '@hearth/testkit/system';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { AuthApp } from '../src/app.js';
import { type AuthConfig, authConfigSpec } from '../src/config.js';
import type { AuthLimits } from '../src/limits/types.js';
import type { AuthTables } from '../src/store/schema.js';

export const STRONG_PASSWORD = 'lantern orbit velvet cactus 42';

/** The host's HEARTH_INTERNAL_SECRET in these tests: other services' tokens are signed with it. */
export const INTERNAL_SECRET = 'test-internal-secret-0123456789abcdef';

/** Call options that make a call as another Hearth service (default: the user service). */
export async function asService(name = 'user', secret = INTERNAL_SECRET): Promise<{ headers: Record<string, string> }> {
  return { headers: { [SERVICE_TOKEN_HEADER]: await new ServiceTokens(secret, name).token() } };
}

/** A limiter that never refuses: these tests are about auth; the limiter has its own tests. */
export const noLimits: AuthLimits = {
  checkLogin: async () => undefined,
  recordLoginFailure: async () => undefined,
  recordLoginSuccess: async () => undefined,
  releaseLogin: async () => undefined,
  consumeRegister: async () => undefined,
  consumeRefresh: async () => undefined,
  consumeOAuth: async () => undefined,
};

export interface TestAuth {
  readonly host: Host;
  readonly url: string;
  readonly app: AuthApp;
  readonly config: AuthConfig;
  readonly client: Client<typeof AuthService>;
  /** The auth schema, for assertions on rows. */
  readonly db: Database<AuthTables>;
  readonly denyList: SessionDenyList;
  readonly kek: string;
  /** The whole test system (its seeder, its other clients). */
  readonly system: TestSystem<'auth'>;
  /** Moves the service's clock (key rotation, expiry). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * The auth service alone through the shared harness (@hearth/testkit/system), on a copy of the
 * migrated template, with a clock tests can move. `limits: 'real'` keeps the service's own
 * limiter (in Redis, under this file's key prefix); otherwise the given one, or none at all.
 */
export async function startAuth(opts: { limits?: AuthLimits | 'real'; env?: Record<string, string> } = {}): Promise<TestAuth> {
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const env = { HEARTH_INTERNAL_SECRET: INTERNAL_SECRET, ...opts.env };
  const system = await startTestSystem({
    services: ['auth'],
    env,
    overrides: { auth: { now, ...(opts.limits === 'real' ? {} : { limits: opts.limits ?? noLimits }) } },
  });
  const app = system.modules.auth;
  const config: ServiceConfig<typeof authConfigSpec> = loadServiceConfig('auth', authConfigSpec, { ...baseEnv(system.database.url), ...env });
  return {
    host: system.host,
    url: system.url,
    app,
    config,
    client: system.auth,
    db: app.db,
    denyList: system.host.runtime.sessions.denyList,
    kek: TEST_KEY_ENCRYPTION_KEY,
    system,
    advance: (ms) => {
      offset += ms;
    },
    close: () => system.close(),
  };
}

export function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${token}` } };
}

let seq = 0;
/** A fresh, valid Register request. */
export function newUser(overrides: Partial<{ email: string; password: string; handle: string; idempotencyKey: string }> = {}) {
  seq++;
  const id = randomUUID().slice(0, 8);
  return {
    email: overrides.email ?? `Person.${id}@Example.org`,
    password: overrides.password ?? STRONG_PASSWORD,
    handle: overrides.handle ?? `person_${id}_${seq}`,
    displayName: 'Person',
    deviceName: 'test device',
    tokenDelivery: TokenDelivery.BODY,
    idempotencyKey: overrides.idempotencyKey ?? `key-${randomUUID()}`,
  };
}

export interface ProfileJobRow {
  readonly key: string | null;
  readonly payload: { userId: string; handle: string; displayName: string };
  readonly attempts: number;
  readonly last_error: string | null;
}

/** The create-profile jobs in the auth queue (graphile-worker's own tables; its view hides payloads). */
export async function profileJobs(t: TestAuth): Promise<ProfileJobRow[]> {
  const { rows } = await sql<ProfileJobRow>`
    select j.key, j.payload, j.attempts, j.last_error
      from auth_jobs._private_jobs j join auth_jobs._private_tasks k on k.id = j.task_id
     where k.identifier = 'auth:create-profile'
     order by j.id`.execute(t.db.db);
  return rows;
}
