// The authorization matrix: every RPC of every service in proto/, called by every kind of
// caller, through the whole system in monolith mode, must be allowed or refused exactly as its
// rule in services/<name>/src/rpc/rules.ts says. The expected outcome is computed here from the
// rule's declaration by an independent reading of what each rule kind means, and compared with
// what the running system answers. An RPC without a rule fails, so nothing ships unguarded.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type DescMethod, type DescService, create, toJsonString } from '@bufbuild/protobuf';
import { reflect } from '@bufbuild/protobuf/reflect';
import { Code } from '@connectrpc/connect';
import { type HearthClient, createHearthClient } from '@hearth/client';
import { type Rule, SERVICE_TOKEN_HEADER, ServiceTokens, fieldsNamed } from '@hearth/authz';
import { services } from '@hearth/contracts';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { newUser, startWholeSystem, type WholeSystem } from './helpers.js';

const KINDS = ['anonymous', 'user', 'member', 'host', 'owner', 'blocked', 'suspended', 'moderator', 'admin', 'service'] as const;
type Kind = (typeof KINDS)[number];
type Visibility = 'private' | 'public';
type Outcome = 'allow' | Code;

const CODE_NAMES: Record<string, Code> = {
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  invalid_argument: Code.InvalidArgument,
};

/**
 * What a rule means for a kind of caller, written from the rule vocabulary's documentation
 * (packages/authz rules.ts), not from its implementation. In the fixture, `owner` owns both
 * circles, `host` and `member` belong to both, `blocked` has blocked the owner, and every
 * request names the owner wherever a rule reads a user id.
 */
function expected(r: Rule, kind: Kind, visibility: Visibility): Outcome {
  // A revoked token is refused even where no token is needed: a client that sends one expects it to count.
  if (kind === 'suspended') return Code.Unauthenticated;
  if (r.kind === 'public') return 'allow';
  if (kind === 'anonymous') return Code.Unauthenticated;
  const staff = kind === 'moderator' || kind === 'admin';
  const hasRole = (roles: readonly string[] | undefined) =>
    roles !== undefined && (roles.includes(kind) || (kind === 'admin' && roles.includes('moderator')));
  if (kind === 'service') {
    return r.kind === 'internal' || (r.kind === 'signedIn' && r.services === true) ? 'allow' : Code.PermissionDenied;
  }
  switch (r.kind) {
    case 'internal':
      if (hasRole(r.roles)) return 'allow';
      return r.selfField && kind === 'owner' ? 'allow' : Code.PermissionDenied;
    case 'signedIn':
      if (r.roles && !hasRole(r.roles)) return Code.PermissionDenied;
      if (r.hiddenByBlock && kind === 'blocked') return Code.NotFound;
      return 'allow';
    case 'circle': {
      if (r.moderators && staff) return 'allow';
      const rank = { member: 1, host: 2, owner: 3 } as const;
      const mine = kind === 'owner' || kind === 'host' || kind === 'member' ? rank[kind] : 0;
      if (mine === 0) {
        if (visibility === 'private') return Code.NotFound;
        return r.level === 'visible' ? 'allow' : Code.PermissionDenied;
      }
      return r.level === 'visible' || mine >= rank[r.level] ? 'allow' : Code.PermissionDenied;
    }
  }
}

interface Caller {
  readonly headers: Record<string, string>;
  /** Signs in again, for after RPCs that end the caller's sessions. */
  readonly session?: () => Promise<Record<string, string>>;
}

/** RPCs that end the caller's session(s): the caller signs in again after each. */
const SESSION_ENDING = new Set(['hearth.auth.v1.AuthService/Logout', 'hearth.auth.v1.AuthService/LogoutAll']);

/**
 * What a handler itself answers to the near-empty request the walk sends, when that answer
 * looks like a refusal: Logout without a refresh token has no session to end.
 */
const HANDLER_ANSWERS: Record<string, Code> = { 'hearth.auth.v1.AuthService/Logout': Code.Unauthenticated };

describe('authorization matrix', () => {
  let system: WholeSystem;
  let env: Record<string, string>;
  const callers = new Map<Kind, Caller>();
  const circles: Record<Visibility, string> = { private: '', public: '' };
  let ownerId = '';

  beforeAll(async () => {
    system = await startWholeSystem();
    env = { ...system.env };
    const service = new ServiceTokens(env.HEARTH_INTERNAL_SECRET as string, 'matrix-test');
    const asService = createHearthClient({
      baseUrl: system.url,
      interceptors: [
        (next) => async (req) => {
          req.header.set(SERVICE_TOKEN_HEADER, await service.token());
          return next(req);
        },
      ],
    });

    const people = new Map<Kind, { id: string; email: string; password: string; access: string; refresh: string; client: HearthClient }>();
    for (const kind of ['user', 'member', 'host', 'owner', 'blocked', 'suspended', 'moderator', 'admin'] as const) {
      const registration = newUser(kind);
      const { tokens } = await system.client.auth.register(registration);
      assert.ok(tokens);
      const userId = subjectOf(tokens.accessToken);
      const person = {
        id: userId,
        email: registration.email,
        password: registration.password,
        access: tokens.accessToken,
        refresh: tokens.refreshToken,
        client: undefined as unknown as HearthClient,
      };
      person.client = createHearthClient({ baseUrl: system.url, getAccessToken: () => person.access });
      people.set(kind, person);
    }
    const get = (kind: Kind) => people.get(kind) as NonNullable<ReturnType<typeof people.get>>;
    // Profiles arrive through auth's job queue; wait until every one exists.
    await eventually(async () => {
      const { profiles } = await asService.user.getProfiles({ userIds: [...people.values()].map((p) => p.id) });
      assert.equal(Object.keys(profiles).length, people.size);
    });
    const setRoles = async (client: HearthClient, kind: Kind, roles: Role[]) => {
      const { profiles } = await asService.user.getProfiles({ userIds: [get(kind).id] });
      const version = profiles[get(kind).id]?.version ?? 0n;
      await client.user.setUserRoles({ userId: get(kind).id, roles, version, reason: 'authorization matrix fixture' });
      await refresh(get(kind));
    };
    const refresh = async (p: { access: string; refresh: string }) => {
      const { tokens } = await system.client.auth.refresh({ refreshToken: p.refresh, tokenDelivery: TokenDelivery.BODY });
      assert.ok(tokens);
      p.access = tokens.accessToken;
      p.refresh = tokens.refreshToken;
    };
    // The first admin is made by an operator with the service identity; the rest by that admin.
    await setRoles(asService, 'admin', [Role.ADMIN]);
    await setRoles(get('admin').client, 'moderator', [Role.MODERATOR]);

    const owner = get('owner');
    ownerId = owner.id;
    for (const visibility of ['private', 'public'] as const) {
      const { circle } = await owner.client.circle.createCircle({
        name: `Matrix ${visibility}`,
        visibility: visibility === 'private' ? CircleVisibility.PRIVATE : CircleVisibility.PUBLIC,
        idempotencyKey: `matrix-${visibility}-${owner.id}`,
      });
      assert.ok(circle);
      circles[visibility] = circle.id;
      const { invite } = await owner.client.circle.createInvite({ circleId: circle.id, idempotencyKey: `invite-${circle.id}` });
      assert.ok(invite);
      for (const kind of ['host', 'member'] as const) {
        await get(kind).client.circle.joinCircle({ target: { case: 'inviteCode', value: invite.code } });
      }
      const { members } = await owner.client.circle.listMembers({ circleId: circle.id });
      const hostMember = members.find((m) => m.userId === get('host').id);
      assert.ok(hostMember);
      await owner.client.circle.setMemberRole({ circleId: circle.id, userId: hostMember.userId, role: MemberRole.HOST, version: hostMember.version });
    }
    await get('blocked').client.user.blockUser({ userId: owner.id });
    const { profiles } = await asService.user.getProfiles({ userIds: [get('suspended').id] });
    await get('admin').client.user.setAccountState({
      userId: get('suspended').id,
      state: AccountState.SUSPENDED,
      version: profiles[get('suspended').id]?.version ?? 0n,
      reason: 'authorization matrix fixture',
    });

    callers.set('anonymous', { headers: {} });
    for (const [kind, p] of people) {
      const session = async () => {
        if (kind === 'suspended') return { authorization: `Bearer ${p.access}` }; // cannot sign in again
        const { tokens } = await system.client.auth.login({ email: p.email, password: p.password, deviceName: 'matrix', tokenDelivery: TokenDelivery.BODY });
        return { authorization: `Bearer ${tokens?.accessToken}` };
      };
      callers.set(kind, { headers: { authorization: `Bearer ${p.access}` }, session });
    }
    callers.set('service', { headers: { [SERVICE_TOKEN_HEADER]: await service.token() } });
  });

  afterAll(async () => {
    await system?.close();
  });

  /** Every RPC with the rule the running system enforces for it. */
  function everyRpc(): Array<{ service: DescService; method: DescMethod; rule: Rule | undefined }> {
    const byType = new Map(system.modules.flatMap((m) => m.rules.map((r) => [r.service.typeName, r] as const)));
    return Object.values(services).flatMap((service) =>
      service.methods.map((method) => ({ service, method, rule: byType.get(service.typeName)?.ruleFor(method.name) })),
    );
  }

  it('has a rule for every RPC in proto/', () => {
    const rpcs = everyRpc();
    assert.ok(rpcs.length >= 110, `expected the whole v1 surface, saw ${rpcs.length} RPCs`);
    const missing = rpcs.filter((r) => !r.rule).map((r) => `${r.service.typeName}/${r.method.name}`);
    assert.deepEqual(missing, [], 'RPCs without an authorization rule');
  });

  /**
   * A request with just the fields the rule reads: the circle, or the owner wherever a user is
   * named. Everything else is empty, so an allowed call stops at validation (or succeeds
   * harmlessly) and a refused one shows the authorization step's answer.
   */
  function requestFor(method: DescMethod, r: Rule, visibility: Visibility): string {
    const message = create(method.input);
    const fields = fieldsNamed(r);
    const rm = reflect(method.input, message);
    for (const name of fields) {
      const field = method.input.fields.find((f) => f.localName === name);
      assert.ok(field, `${method.name}: ${name}`);
      rm.set(field, r.kind === 'circle' && name === r.circleField ? circles[visibility] : ownerId);
    }
    return toJsonString(method.input, message);
  }

  async function call(service: DescService, method: DescMethod, caller: Caller, body: string): Promise<Code | 'ok'> {
    const res = await fetch(`${system.url}/${service.typeName}/${method.name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...caller.headers },
      body,
    });
    const json = (await res.json()) as { code?: string };
    if (res.status === 200) return 'ok';
    assert.ok(json.code, `${method.name}: HTTP ${res.status} without a Connect code`);
    return CODE_NAMES[json.code] ?? (json.code as unknown as Code);
  }

  for (const visibility of ['private', 'public'] as const) {
    it(`allows and refuses every RPC as declared (${visibility} circle)`, async () => {
      const wrong: string[] = [];
      let checked = 0;
      const rpcs = everyRpc();
      for (const { service, method, rule: r } of rpcs) {
        if (!r) continue; // reported by the test above
        // Rules that read no circle do not depend on visibility: walk them once.
        if (visibility === 'public' && r.kind !== 'circle') continue;
        const body = requestFor(method, r, visibility);
        for (const kind of KINDS) {
          const rpc = `${service.typeName}/${method.name}`;
          const caller = callers.get(kind) as Caller;
          const want = expected(r, kind, visibility);
          const got = await call(service, method, caller, body);
          if (SESSION_ENDING.has(rpc) && caller.session) callers.set(kind, { ...caller, headers: await caller.session() });
          checked++;
          const refusedByGate = (got === Code.Unauthenticated || got === Code.PermissionDenied) && got !== HANDLER_ANSWERS[rpc];
          const ok = want === 'allow' ? !refusedByGate && !(r.kind === 'circle' && got === Code.NotFound) : got === want;
          if (!ok) wrong.push(`${service.name}.${method.name} as ${kind}: expected ${label(want)}, got ${label(got)}`);
        }
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${checked} calls disagree with the rules`);
      assert.ok(checked > (visibility === 'private' ? 1000 : 200), `walked only ${checked} calls`);
    });
  }
});

function subjectOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string };
  return payload.sub;
}

function label(o: Outcome | 'ok'): string {
  return typeof o === 'number' ? Code[o] : o;
}

async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
