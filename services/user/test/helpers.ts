import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type Client, type Interceptor, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, ServiceTokens } from '@hearth/authz';
import { loadServiceConfig } from '@hearth/config';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_pb.js';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import type { Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';
import { type Database, createDatabase } from '@hearth/db';
import { type Host, startHost } from '@hearth/platform';
import { AuthApp, type AuthDeps, authConfigSpec } from '@hearth/service-auth';
export { refusal } from '@hearth/testkit';
import { type TestDatabase, type TestRedis, createTestDatabase, createTestRedis } from '@hearth/testkit';
import { Redis } from 'ioredis';
import { UserApp } from '../src/app.js';
import { userConfigSpec } from '../src/config.js';
import type { UsersTables } from '../src/store/schema.js';

/** The host's HEARTH_INTERNAL_SECRET in these tests, so they can call as another Hearth service. */
export const INTERNAL_SECRET = `test-internal-${randomBytes(16).toString('hex')}`;
export const PASSWORD = 'lantern orbit velvet cactus 42';
export const DAY_MS = 86_400_000;

/** Registration and sign-in are not what these tests are about; auth's limiter has its own tests. */
const noLimits: AuthDeps['limits'] = {
  checkLogin: async () => undefined,
  recordLoginFailure: async () => undefined,
  recordLoginSuccess: async () => undefined,
  consumeRegister: async () => undefined,
  consumeRefresh: async () => undefined,
  consumeOAuth: async () => undefined,
};

/** A signed-up person: their ids, handle, tokens, and a UserService client calling as them. */
export interface Person {
  readonly userId: string;
  /** As registered; CreateUser may have given a variant. */
  handle: string;
  readonly email: string;
  accessToken: string;
  refreshToken: string;
  readonly users: Client<typeof UserService>;
}

export interface TestUsers {
  readonly host: Host;
  readonly app: UserApp;
  /** The users schema, for assertions on rows. */
  readonly db: Database<UsersTables>;
  readonly auth: Client<typeof AuthService>;
  /** UserService as another Hearth service ("auth"), as AuthService's profile job calls it. */
  readonly service: Client<typeof UserService>;
  readonly anonymous: Client<typeof UserService>;
  /** Moves the user service's clock forward. */
  advance(ms: number): void;
  /** Registers through AuthService and makes sure the profile exists (CreateUser as auth would). */
  signUp(handle?: string): Promise<Person>;
  /** Registers through AuthService only: the profile comes when auth's job reaches CreateUser. */
  register(handle?: string): Promise<Person>;
  /** Gives a person platform roles (as the operator tool would) and a token that carries them. */
  promote(p: Person, roles: Role[]): Promise<void>;
  /** A fresh access token for the person (Refresh), e.g. after their roles changed. */
  refresh(p: Person): Promise<void>;
  close(): Promise<void>;
}

/** Auth and user services in one host, on a fresh database, as in monolith mode. */
export async function startUsers(opts: { blockCap?: number; env?: Record<string, string> } = {}): Promise<TestUsers> {
  const testDb: TestDatabase = await createTestDatabase({ prefix: 'user' });
  const testRedis: TestRedis = await createTestRedis();
  const redis = new Redis(testRedis.url, { keyPrefix: testRedis.keyPrefix, maxRetriesPerRequest: 1 });
  const release = async () => {
    redis.disconnect();
    await testRedis.flush().catch(() => undefined);
    await testRedis.close();
    await testDb.drop();
  };
  const env = {
    DATABASE_URL: testDb.url,
    REDIS_URL: testRedis.url,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HEARTH_INTERNAL_SECRET: INTERNAL_SECRET,
    ...opts.env,
  };
  const authConfig = loadServiceConfig('auth', authConfigSpec, env);
  const userConfig = loadServiceConfig('user', userConfigSpec, env);
  const db = createDatabase<UsersTables>({ ...userConfig.database, schema: 'users', idleTimeoutMs: 10_000, applicationName: 'user-test' });
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  let app: UserApp | undefined;
  let host: Host;
  try {
    host = await startHost({
      name: 'hearth',
      config: authConfig,
      runtime: { redis },
      create: async (runtime) => {
        app = UserApp.fromConfig(userConfig, runtime, { db, now, ...(opts.blockCap ? { blockCap: opts.blockCap } : {}) });
        return [AuthApp.fromConfig(authConfig, runtime, { limits: noLimits }), app];
      },
    });
  } catch (err) {
    await db.destroy();
    await release();
    throw err;
  }
  const transport = (interceptors: Interceptor[] = []) =>
    createConnectTransport({ baseUrl: host.url, httpVersion: '1.1', interceptors });
  const tokens = new ServiceTokens(INTERNAL_SECRET, 'auth');
  const asService: Interceptor = (next) => async (req) => {
    req.header.set(SERVICE_TOKEN_HEADER, await tokens.token());
    return next(req);
  };
  const auth = createClient(AuthService, transport());
  const service = createClient(UserService, transport([asService]));

  const refresh = async (p: Person) => {
    const res = await auth.refresh({ refreshToken: p.refreshToken, tokenDelivery: TokenDelivery.BODY });
    const t = res.tokens ?? assert.fail('no tokens');
    p.accessToken = t.accessToken;
    p.refreshToken = t.refreshToken;
  };

  let seq = 0;
  const register = async (handle?: string): Promise<Person> => {
    seq++;
    const h = handle ?? `person_${randomUUID().slice(0, 8)}_${seq}`;
    const email = `person.${randomUUID().slice(0, 8)}@example.org`;
    const res = await auth.register({
      email,
      password: PASSWORD,
      handle: h,
      displayName: '',
      deviceName: 'test',
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `key-${randomUUID()}`,
    });
    const t = res.tokens ?? assert.fail('no tokens');
    const person: Person = {
      userId: t.userId,
      handle: h,
      email,
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      users: createClient(
        UserService,
        transport([
          (next) => async (req) => {
            req.header.set('authorization', `Bearer ${person.accessToken}`);
            return next(req);
          },
        ]),
      ),
    };
    return person;
  };
  return {
    host,
    app: app as unknown as UserApp,
    db,
    auth,
    service,
    anonymous: createClient(UserService, transport()),
    advance: (ms) => {
      offset += ms;
    },
    async signUp(handle) {
      const person = await register(handle);
      // AuthService's job creates the profile too; CreateUser is idempotent by user id, so
      // whichever comes first makes it and the other returns it. Calling it here makes the
      // profile exist before the test goes on.
      const created = await service.createUser({
        userId: person.userId,
        handle: person.handle,
        displayName: '',
        idempotencyKey: `create-profile:${person.userId}`,
      });
      person.handle = created.profile?.handle ?? assert.fail('no profile');
      return person;
    },
    register,
    async promote(p, roles) {
      const me = await p.users.getMe({});
      await service.setUserRoles({ userId: p.userId, roles, version: me.profile?.version ?? 1n, reason: 'test setup' });
      await refresh(p);
    },
    refresh,
    async close() {
      await host.close();
      await db.destroy();
      await release();
    },
  };
}

