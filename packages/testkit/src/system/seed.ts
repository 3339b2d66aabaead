import { randomUUID } from 'node:crypto';
import type { Role } from '@hearth/authz';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { Circle } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import type { Runtime } from '@hearth/platform';
import type { Clients } from './clients.js';
import type { ModuleOf } from './services.js';

/** The password every seeded account has (strong enough for the auth service's checks). */
export const SEED_PASSWORD = 'lantern orbit velvet cactus 42';

/** Someone the tests act as: their id, handle, access token, and call options carrying it. */
export interface Person {
  readonly userId: string;
  readonly handle: string;
  readonly email: string;
  readonly roles: readonly Role[];
  readonly accessToken: string;
  /** Pass as the call options of a client call: `sys.circle.getCircle(req, alice.call)`. */
  readonly call: { readonly headers: Record<string, string> };
  /** Present for accounts made by `account` (a real sign-in): the session and its refresh token. */
  readonly sessionId: string;
  readonly refreshToken: string | undefined;
}

export interface SeedDeps {
  readonly clients: Clients;
  readonly runtime: Runtime;
  /** The hosted auth module, whose signing keys mint `person` tokens. */
  readonly auth: ModuleOf<'auth'> | undefined;
}

/**
 * Makes what tests start from through the system's own APIs. `person` is the quick way: a
 * profile through UserService.CreateUser (as a service) and an access token minted with the auth
 * service's own signing keys, without an account or argon2 (for tests not about signing in).
 * `account` is the real thing: Register, with a session and a refresh token.
 */
export class Seed {
  constructor(private readonly d: SeedDeps) {}

  async person(opts: { name?: string; roles?: readonly Role[] } = {}): Promise<Person> {
    const auth = this.d.auth;
    if (!auth) throw new Error('seed.person mints tokens with the auth service: host it (services: [\'auth\', ...])');
    const name = opts.name ?? 'person';
    const userId = randomUUID();
    const handle = handleFor(name);
    const roles: Role[] = ['user', ...(opts.roles ?? []).filter((r) => r !== 'user')];
    if (this.d.runtime.config.internal.serviceUrls.user !== undefined || hostsUser(this.d.runtime)) {
      await this.d.runtime.serviceClient(UserService).createUser({ userId, handle, displayName: name, idempotencyKey: `seed-${userId}` });
    }
    const sessionId = randomUUID();
    const { token } = await auth.tokens.access({ userId, sessionId, roles }, new Date());
    return { userId, handle, email: `${handle}@example.org`, roles, accessToken: token, call: bearer(token), sessionId, refreshToken: undefined };
  }

  /** A real account: Register (argon2 and all), signed in with a session. */
  async account(opts: { name?: string } = {}): Promise<Person> {
    const name = opts.name ?? 'person';
    const handle = handleFor(name);
    const email = `${handle}@example.org`;
    const { tokens } = await this.d.clients.auth.register({
      email,
      password: SEED_PASSWORD,
      handle,
      displayName: name,
      deviceName: 'testkit',
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `seed-${randomUUID()}`,
    });
    if (!tokens) throw new Error('Register returned no tokens');
    return {
      userId: tokens.userId,
      handle,
      email,
      roles: ['user'],
      accessToken: tokens.accessToken,
      call: bearer(tokens.accessToken),
      sessionId: tokens.sessionId,
      refreshToken: tokens.refreshToken,
    };
  }

  /** A circle owned by `owner` (public unless said otherwise). */
  async circle(owner: Person, opts: { name?: string; visibility?: CircleVisibility; memberCap?: number } = {}): Promise<Circle> {
    const { circle } = await this.d.clients.circle.createCircle(
      {
        name: opts.name ?? 'Evening walkers',
        description: 'We walk and talk after work.',
        guidelines: 'Be kind.',
        visibility: opts.visibility ?? CircleVisibility.PUBLIC,
        memberCap: opts.memberCap ?? 0,
        idempotencyKey: `seed-${randomUUID()}`,
      },
      owner.call,
    );
    if (!circle) throw new Error('CreateCircle returned no circle');
    return circle;
  }

  /**
   * A circle with a fresh owner and `members` fresh people who joined it by id (so public
   * unless said otherwise: a private circle takes invites, and gets no members here).
   */
  async circleWith(members: number, opts: { visibility?: CircleVisibility } = {}): Promise<{ id: string; owner: Person; members: Person[] }> {
    const owner = await this.person({ name: 'owner' });
    const circle = await this.circle(owner, opts);
    const joined: Person[] = [];
    for (let i = 0; i < members; i++) {
      const p = await this.person({ name: `m${i}` });
      await this.d.clients.circle.joinCircle({ target: { case: 'circleId', value: circle.id } }, p.call);
      joined.push(p);
    }
    return { id: circle.id, owner, members: joined };
  }
}

export function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${token}` } };
}

function handleFor(name: string): string {
  return `${name.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 16)}_${randomUUID().slice(0, 8)}`;
}

function hostsUser(runtime: Runtime): boolean {
  try {
    runtime.serviceClient(UserService);
    return true;
  } catch {
    return false;
  }
}
