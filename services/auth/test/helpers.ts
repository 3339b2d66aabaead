import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, type SessionDenyList, ServiceTokens, createSessionDenyList } from '@hearth/authz';
import { loadServiceConfig } from '@hearth/config';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_pb.js';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { type Database, createDatabase } from '@hearth/db';
import { type Host, startHost } from '@hearth/platform';
export { refusal } from '@hearth/testkit';
import { type TestDatabase, type TestRedis, createTestDatabase, createTestRedis } from '@hearth/testkit';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { randomBytes, randomUUID } from 'node:crypto';
import { AuthApp } from '../src/app.js';
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
  /** Moves the service's clock (key rotation, expiry). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** `limits: 'real'` wires the service's own limiter (Redis-backed, under this file's key prefix). */
export async function startAuth(opts: { limits?: AuthLimits | 'real'; env?: Record<string, string> } = {}): Promise<TestAuth> {
  const testDb: TestDatabase = await createTestDatabase({ prefix: 'auth' });
  const testRedis: TestRedis = await createTestRedis();
  const redis = new Redis(testRedis.url, { keyPrefix: testRedis.keyPrefix, maxRetriesPerRequest: 1 });
  const kek = randomBytes(32).toString('base64');
  const config = loadServiceConfig('auth', authConfigSpec, {
    DATABASE_URL: testDb.url,
    REDIS_URL: testRedis.url,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: kek,
    HEARTH_INTERNAL_SECRET: INTERNAL_SECRET,
    ...opts.env,
  });
  const db = createDatabase<AuthTables>({ ...config.database, schema: 'auth', idleTimeoutMs: 10_000, applicationName: 'auth-test' });
  const denyList = createSessionDenyList({ db, redis });
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  let app: AuthApp | undefined;
  const host = await startHost({
    name: 'auth',
    config,
    runtime: { redis },
    create: async (runtime) => {
      const limits = opts.limits === 'real' ? {} : { limits: opts.limits ?? noLimits };
      app = AuthApp.fromConfig(config, runtime, { db, denyList, now, ...limits });
      return [app];
    },
  });
  const client = createClient(AuthService, createConnectTransport({ baseUrl: host.url, httpVersion: '1.1' }));
  return {
    host,
    url: host.url,
    app: app as unknown as AuthApp,
    config,
    client,
    db,
    denyList,
    kek,
    advance: (ms) => {
      offset += ms;
    },
    async close() {
      await host.close();
      redis.disconnect();
      await testRedis.flush().catch(() => undefined);
      await testRedis.close();
      await testDb.drop();
    },
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
     where k.identifier = 'user.create-profile'
     order by j.id`.execute(t.db.db);
  return rows;
}
