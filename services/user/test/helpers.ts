import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CallOptions, Client } from '@connectrpc/connect';
import type { Role as RoleName } from '@hearth/authz';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { type Person as Seeded, type TestSystem as HarnessSystem, SEED_PASSWORD, bearer, startTestSystem } from '@hearth/testkit/system';
import type { UserApp } from '../src/app.js';
export { refusal } from '@hearth/testkit';

/** The password of every account the tests register (the harness's). */
export const PASSWORD = SEED_PASSWORD;
export const DAY_MS = 86_400_000;

/**
 * The message of the checks that a deletion, suspension or removed role has ended the account's
 * sessions by the time the RPC returns. The user service enqueues its sync-access job in the
 * change's transaction; the worker hears of it at commit and can reach the auth service before
 * the immediate after-commit attempt. The immediate SetAccountAccess then waits for the job's
 * call, finds nothing left to revoke and returns before the job's call has put the sessions on
 * the deny-list (its own after-commit step), so for some milliseconds the old token still works.
 */
export const SESSIONS_END =
  'the old access token still worked after the call returned: the sync-access job reached auth first and the immediate ' +
  'SetAccountAccess returned before that call had put the sessions on the deny-list';

/** Someone the tests act as: their ids, handle, tokens, and a UserService client calling as them. */
export interface Person {
  readonly userId: string;
  readonly handle: string;
  readonly email: string;
  /**
   * True for `account`s (Register: auth holds the account and a session, so Login and Refresh
   * work and ending sessions shows); false for `person`s (a profile and a minted token only).
   */
  readonly hasAccount: boolean;
  readonly sessionId: string;
  /** The token `users` sends; a test that signs in again puts the new one here. */
  accessToken: string;
  refreshToken: string | undefined;
  readonly users: Client<typeof UserService>;
}

/** The harness's system of auth and user, with what the user tests add to it. */
export interface TestUsers extends HarnessSystem<'auth' | 'user'> {
  /** The user module as its composition root built it. */
  readonly app: UserApp;
  /** The users schema, for assertions on rows. */
  readonly db: UserApp['db'];
  /** UserService as another Hearth service ("auth"), as AuthService's profile job calls it. */
  readonly service: Client<typeof UserService>;
  /** UserService without credentials. */
  readonly anonymous: Client<typeof UserService>;
  /** Moves the user service's clock forward. */
  advance(ms: number): void;
  /**
   * A profile (CreateUser as a service) and an access token minted with auth's keys; no account.
   * For tests that are not about signing in. With a handle, the profile gets exactly that one
   * (display name left empty, so CreateUser derives it); without, the harness's `seed.person`.
   */
  person(handle?: string): Promise<Person>;
  /** A real account (Register, argon2, a session), with its profile made at once. */
  account(): Promise<Person>;
  /** Register only: the profile comes when auth's job reaches CreateUser. */
  register(handle: string): Promise<Person>;
  /** Gives a person platform roles (as the operator tool would) and a token that carries them. */
  promote(p: Person, roles: Role[]): Promise<void>;
  /** A fresh access token for an account (Refresh), e.g. after its roles changed. */
  refresh(p: Person): Promise<void>;
}

const ROLE_NAMES: Readonly<Partial<Record<Role, RoleName>>> = { [Role.USER]: 'user', [Role.MODERATOR]: 'moderator', [Role.ADMIN]: 'admin' };

/** Auth and user services in one host through the harness, as in monolith mode. */
export async function startUsers(opts: { blockCap?: number } = {}): Promise<TestUsers> {
  let offset = 0;
  const sys = await startTestSystem({
    services: ['auth', 'user'],
    name: 'user',
    overrides: { user: { now: () => new Date(Date.now() + offset), ...(opts.blockCap ? { blockCap: opts.blockCap } : {}) } },
  });
  const app = sys.modules.user;
  const service = withHeaders(sys.user, async () => (await sys.asService('auth')).headers);

  const mint = async (userId: string, sessionId: string, roles: readonly RoleName[]) =>
    (await sys.modules.auth.tokens.access({ userId, sessionId, roles: ['user', ...roles.filter((r) => r !== 'user')] }, new Date())).token;

  const personOf = (p: Omit<Person, 'users'>): Person => {
    const person: Person = { ...p, users: withHeaders(sys.user, () => bearer(person.accessToken).headers) };
    return person;
  };
  const seeded = (p: Seeded, hasAccount: boolean, handle = p.handle): Person =>
    personOf({ userId: p.userId, handle, email: p.email, hasAccount, sessionId: p.sessionId, accessToken: p.accessToken, refreshToken: p.refreshToken });

  const refresh = async (p: Person) => {
    assert.ok(p.hasAccount && p.refreshToken, 'Refresh needs an account (t.account), not a minted token');
    const res = await sys.auth.refresh({ refreshToken: p.refreshToken, tokenDelivery: TokenDelivery.BODY });
    const t = res.tokens ?? assert.fail('no tokens');
    p.accessToken = t.accessToken;
    p.refreshToken = t.refreshToken;
  };

  return {
    ...sys,
    app,
    db: app.db,
    service,
    anonymous: sys.user,
    advance(ms) {
      offset += ms;
    },
    async person(handle) {
      if (handle === undefined) return seeded(await sys.seed.person(), false);
      const userId = randomUUID();
      const created = await service.createUser({ userId, handle, displayName: '', idempotencyKey: `create-profile:${userId}` });
      const sessionId = randomUUID();
      const shown = created.profile?.handle ?? assert.fail('no profile');
      return personOf({
        userId,
        handle: shown,
        email: `${shown}@example.org`,
        hasAccount: false,
        sessionId,
        accessToken: await mint(userId, sessionId, []),
        refreshToken: undefined,
      });
    },
    async account() {
      const name = 'person';
      const p = await sys.seed.account({ name });
      // AuthService's job creates the profile too, from what Register was given; CreateUser is
      // idempotent by user id, so whichever comes first makes it (alike) and the other returns
      // it. Calling it here makes the profile exist before the test goes on.
      const created = await service.createUser({ userId: p.userId, handle: p.handle, displayName: name, idempotencyKey: `create-profile:${p.userId}` });
      return seeded(p, true, created.profile?.handle ?? assert.fail('no profile'));
    },
    async register(handle) {
      const email = `person.${randomUUID().slice(0, 8)}@example.org`;
      const res = await sys.auth.register({
        email,
        password: PASSWORD,
        handle,
        displayName: '',
        deviceName: 'test',
        tokenDelivery: TokenDelivery.BODY,
        idempotencyKey: `key-${randomUUID()}`,
      });
      const t = res.tokens ?? assert.fail('no tokens');
      return personOf({ userId: t.userId, handle, email, hasAccount: true, sessionId: t.sessionId, accessToken: t.accessToken, refreshToken: t.refreshToken });
    },
    async promote(p, roles) {
      const me = await p.users.getMe({});
      const res = await service.setUserRoles({ userId: p.userId, roles, version: me.profile?.version ?? 1n, reason: 'test setup' });
      if (p.hasAccount) return refresh(p);
      // No account in auth to copy the roles to (the sync logs NotFound): mint what Refresh would.
      const granted = (res.profile?.roles ?? []).map((r) => ROLE_NAMES[r] ?? assert.fail(`unknown role ${r}`));
      p.accessToken = await mint(p.userId, p.sessionId, granted);
    },
    refresh,
  };
}

/**
 * The harness's UserService client with headers on every call (a bearer token, a service
 * token), read when the call is made, so a person's new token is used from then on.
 */
function withHeaders(
  client: Client<typeof UserService>,
  headers: () => Record<string, string> | Promise<Record<string, string>>,
): Client<typeof UserService> {
  type Call = (req: unknown, opts?: CallOptions) => Promise<unknown>;
  const calls = client as unknown as Record<string, Call>;
  const out: Record<string, Call> = {};
  for (const { localName } of UserService.methods) {
    const call = calls[localName] ?? assert.fail(`no client method ${localName}`);
    out[localName] = async (req, opts = {}) => call(req, { ...opts, headers: await headers() });
  }
  return out as unknown as Client<typeof UserService>;
}

/** Polls `check` until it holds; for effects that are asynchronous by design (a job, a subscription). */
export async function waitFor(check: () => Promise<boolean>, what = 'a condition', timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
