import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, ServiceTokens } from '@hearth/authz';
import { loadServiceConfig } from '@hearth/config';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_pb.js';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_pb.js';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';
import { type Database, createDatabase } from '@hearth/db';
import { type Host, startHost } from '@hearth/platform';
import { AuthApp, type AuthDeps, authConfigSpec } from '@hearth/service-auth';
import { UserApp, userConfigSpec } from '@hearth/service-user';
export { refusal } from '@hearth/testkit';
import { type TestDatabase, createTestDatabase } from '@hearth/testkit';
import { CircleApp, SCHEMA } from '../src/app.js';
import { circleConfigSpec } from '../src/config.js';
import type { MembershipEvent } from '../src/service/events.js';
import type { Actor } from '../src/service/model.js';
import type { CirclesTables } from '../src/store/schema.js';

const PASSWORD = 'lantern orbit velvet cactus 42';

/** Sign-up and sign-in limits never refuse here: these tests register many people from one address. */
const noLimits: AuthDeps['limits'] = {
  checkLogin: async () => undefined,
  recordLoginFailure: async () => undefined,
  recordLoginSuccess: async () => undefined,
  consumeRegister: async () => undefined,
  consumeRefresh: async () => undefined,
  consumeOAuth: async () => undefined,
};

/** A registered person: their id, a bearer header for calls, and the service-level actor. */
export interface Person {
  readonly userId: string;
  readonly email: string;
  readonly call: { headers: Record<string, string> };
  readonly actor: Actor;
}

export interface TestSystem {
  readonly host: Host;
  readonly app: CircleApp;
  readonly circle: Client<typeof CircleService>;
  readonly auth: Client<typeof AuthService>;
  readonly user: Client<typeof UserService>;
  /** The circles schema, for assertions on rows (and test-only triggers). */
  readonly db: Database<CirclesTables>;
  /** Every circle.membership event seen on the bus since the start. */
  readonly events: MembershipEvent[];
  register(name?: string): Promise<Person>;
  /** A person whose token says platform moderator. */
  moderator(): Promise<Person>;
  /** Call options of another Hearth service. */
  asService(name?: string): Promise<{ headers: Record<string, string> }>;
  /** Moves the circle service's clock (invite and mute expiry). */
  advance(ms: number): void;
  /** Waits until `pred` holds for the events seen so far. */
  waitForEvents(pred: (events: readonly MembershipEvent[]) => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A host with the auth, user and circle modules on a database of its own, as in monolith mode,
 * without Redis: the bus is Postgres LISTEN/NOTIFY on this file's database, so no other test
 * process sees its events.
 */
export async function startSystem(): Promise<TestSystem> {
  const testDb: TestDatabase = await createTestDatabase({ prefix: 'circle' });
  const secret = randomBytes(32).toString('base64url');
  const env = {
    DATABASE_URL: testDb.url,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HEARTH_INTERNAL_SECRET: secret,
  };
  const authConfig = loadServiceConfig('auth', authConfigSpec, env);
  const userConfig = loadServiceConfig('user', userConfigSpec, env);
  const circleConfig = loadServiceConfig('circle', circleConfigSpec, env);
  const db = createDatabase<CirclesTables>({ ...circleConfig.database, schema: SCHEMA, idleTimeoutMs: 10_000, applicationName: 'circle-test' });
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  let app: CircleApp | undefined;
  const host = await startHost({
    name: 'hearth',
    config: authConfig,
    create: async (runtime) => {
      app = CircleApp.fromConfig(circleConfig, runtime, { db, now });
      return [AuthApp.fromConfig(authConfig, runtime, { limits: noLimits }), UserApp.fromConfig(userConfig, runtime), app];
    },
  });
  const transport = createConnectTransport({ baseUrl: host.url, httpVersion: '1.1' });
  const circle = createClient(CircleService, transport);
  const auth = createClient(AuthService, transport);
  const user = createClient(UserService, transport);
  const events: MembershipEvent[] = [];
  const off = host.runtime.bus.subscribe('circle.membership', (p) => events.push(p as MembershipEvent));
  const asService = async (name = 'user') => ({ headers: { [SERVICE_TOKEN_HEADER]: await new ServiceTokens(secret, name).token() } });

  const waitForEvents = async (pred: (e: readonly MembershipEvent[]) => boolean, what: string) => {
    const deadline = Date.now() + 5_000;
    while (!pred(events)) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; saw ${JSON.stringify(events.slice(-10))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // LISTEN starts on the first subscription; wait until it delivers before tests count events.
  const probe = randomUUID();
  const probing = setInterval(() => void host.runtime.bus.publish('circle.membership', { circleId: probe, change: 'probe' }), 50);
  try {
    await waitForEvents((e) => e.some((x) => x.circleId === probe), 'the bus to listen');
  } finally {
    clearInterval(probing);
  }

  const register = async (name = 'person'): Promise<Person> => {
    const id = randomUUID().slice(0, 8);
    const email = `${name}.${id}@example.org`;
    const { tokens } = await auth.register({
      email,
      password: PASSWORD,
      handle: `${name}_${id}`,
      displayName: name,
      deviceName: 'circle test',
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `key-${randomUUID()}`,
    });
    assert.ok(tokens);
    return {
      userId: tokens.userId,
      email,
      call: { headers: { authorization: `Bearer ${tokens.accessToken}` } },
      actor: { userId: tokens.userId, staff: false },
    };
  };

  return {
    host,
    app: app as unknown as CircleApp,
    circle,
    auth,
    user,
    db,
    events,
    register,
    async moderator() {
      const p = await register('mod');
      await auth.setAccountAccess({ userId: p.userId, roles: [Role.MODERATOR], state: AccountState.ACTIVE }, await asService());
      const { tokens } = await auth.login({ email: p.email, password: PASSWORD, deviceName: 'circle test', tokenDelivery: TokenDelivery.BODY });
      assert.ok(tokens);
      return { ...p, call: { headers: { authorization: `Bearer ${tokens.accessToken}` } }, actor: { userId: p.userId, staff: true } };
    },
    asService,
    advance: (ms) => {
      offset += ms;
    },
    waitForEvents,
    async close() {
      off();
      await host.close();
      await testDb.drop();
    },
  };
}

export interface Cast {
  readonly circleId: string;
  readonly owner: Person;
  readonly hosts: Person[];
  readonly members: Person[];
}

/** A public circle with fresh people: an owner, `hosts` hosts and `members` members, joined in that order. */
export async function cast(sys: TestSystem, hosts = 1, members = 2, visibility = CircleVisibility.PUBLIC): Promise<Cast> {
  const owner = await sys.register('owner');
  const { circle } = await sys.circle.createCircle(newCircle(), owner.call);
  const circleId = circle?.id ?? '';
  const join = async (name: string) => {
    const p = await sys.register(name);
    await sys.circle.joinCircle({ target: { case: 'circleId', value: circleId } }, p.call);
    return p;
  };
  const hostList: Person[] = [];
  for (let i = 0; i < hosts; i++) {
    const h = await join(`host${i}`);
    await sys.circle.setMemberRole({ circleId, userId: h.userId, role: MemberRole.HOST, version: 1n }, owner.call);
    hostList.push(h);
  }
  const memberList: Person[] = [];
  for (let i = 0; i < members; i++) memberList.push(await join(`member${i}`));
  if (visibility === CircleVisibility.PRIVATE) await sys.circle.updateCircle({ circleId, version: 1n, visibility }, owner.call);
  return { circleId, owner, hosts: hostList, members: memberList };
}

export async function memberVersion(sys: TestSystem, circleId: string, userId: string): Promise<bigint> {
  const row = await sys.db.db.selectFrom('members').select('version').where('circle_id', '=', circleId).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return BigInt(row.version);
}

/** A fresh CreateCircle request. */
export function newCircle(overrides: Partial<{ name: string; description: string; visibility: CircleVisibility; memberCap: number; idempotencyKey: string }> = {}) {
  return {
    name: overrides.name ?? 'Evening walkers',
    description: overrides.description ?? 'We walk and talk after work.',
    guidelines: 'Be kind.',
    visibility: overrides.visibility ?? CircleVisibility.PUBLIC,
    memberCap: overrides.memberCap ?? 0,
    idempotencyKey: overrides.idempotencyKey ?? `circle-${randomUUID()}`,
  };
}

