import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type MembershipEvent, membershipTopic } from '@hearth/authz';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type Person as SeededPerson, type TestSystem as HarnessSystem, startTestSystem } from '@hearth/testkit/system';
import type { CircleApp } from '../src/app.js';
import type { Actor } from '../src/service/model.js';
export { refusal } from '@hearth/testkit';

/** Someone the tests act as: the harness's person (id, bearer call options) and their service-level actor. */
export interface Person extends SeededPerson {
  readonly actor: Actor;
}

/** The harness's system of auth, user and circle, with what the circle tests add to it. */
export interface TestSystem extends HarnessSystem<'auth' | 'user' | 'circle'> {
  /** The circle module as its composition root built it. */
  readonly app: CircleApp;
  /** The circles schema, for assertions on rows (and test-only triggers). */
  readonly db: CircleApp['db'];
  /** Every circle.membership event published since the start. */
  readonly events: readonly MembershipEvent[];
  /** A person with a profile and an access token (no account, no argon2). */
  person(name?: string): Promise<Person>;
  /** A person whose token says platform moderator. */
  moderator(): Promise<Person>;
  /** Moves the circle service's clock (invite and mute expiry). */
  advance(ms: number): void;
  /** Waits until `pred` holds for the events seen so far. */
  waitForEvents(pred: (events: readonly MembershipEvent[]) => boolean, what: string): Promise<void>;
}

/** Auth, user and circle in one host, as in monolith mode, with the circle service's clock movable. */
export async function startSystem(): Promise<TestSystem> {
  let offset = 0;
  const sys = await startTestSystem({
    services: ['auth', 'user', 'circle'],
    name: 'circle',
    overrides: { circle: { now: () => new Date(Date.now() + offset) } },
  });
  // The circle service publishes on this same bus, and a bus hands its own events to its
  // subscribers inside `publish` (platform bus.ts), so no event can slip past this subscription
  // while Redis is still acknowledging it: the old wait for LISTEN to deliver has nothing to wait for.
  const events: MembershipEvent[] = [];
  const off = sys.host.runtime.bus.subscribe(membershipTopic, (e) => events.push(e));
  const app = sys.modules.circle;
  const seeded = async (name: string, staff: boolean): Promise<Person> => {
    const p = await sys.seed.person({ name, roles: staff ? ['moderator'] : [] });
    return { ...p, actor: { userId: p.userId, staff } };
  };
  return {
    ...sys,
    app,
    db: app.db,
    events,
    person: (name = 'person') => seeded(name, false),
    moderator: () => seeded('mod', true),
    advance(ms) {
      offset += ms;
    },
    async waitForEvents(pred, what) {
      const deadline = Date.now() + 5_000;
      while (!pred(events)) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; saw ${JSON.stringify(events.slice(-10))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      off();
      await sys.close();
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
  const owner = await sys.person('owner');
  const { circle } = await sys.circle.createCircle(newCircle(), owner.call);
  const circleId = circle?.id ?? '';
  const join = async (name: string) => {
    const p = await sys.person(name);
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
