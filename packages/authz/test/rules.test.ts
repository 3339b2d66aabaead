import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { GetCircleRequestSchema, GetMembershipRequestSchema } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { GetProfileRequestSchema, UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { type AuthorizationSources, type Caller, type CircleAccess, type Role, type Rule, ServiceTokens, decide, defineRules, rule } from '../src/index.js';

const CIRCLE = '0192d5e0-0000-7000-8000-0000000000c1';
const ALICE = '0192d5e0-0000-7000-8000-00000000000a';
const BOB = '0192d5e0-0000-7000-8000-00000000000b';

const user = (userId: string, roles: Role[] = ['user']): Caller => ({ kind: 'user', identity: { userId, sessionId: 's', roles } });

/** What the circle and block services would answer, as plain data: the decision is a pure function of it. */
function world(opts: { members?: Record<string, CircleAccess['role']>; visibility?: 'public' | 'private'; blocks?: Array<[string, string]> }) {
  const asked: string[] = [];
  const sources: AuthorizationSources = {
    memberships: {
      async membership(circleId, userId) {
        asked.push(`${circleId}:${userId}`);
        if (circleId !== CIRCLE) return undefined;
        return { role: opts.members?.[userId], banned: false, visibility: opts.visibility ?? 'private', archived: false };
      },
    },
    blocks: {
      async blockedAmong(userId, others) {
        return new Set(others.filter((o) => (opts.blocks ?? []).some(([a, b]) => (a === userId && b === o) || (a === o && b === userId))));
      },
    },
  };
  return { sources, asked };
}

const getCircle = (circleId: string) => create(GetCircleRequestSchema, { circleId });

describe('defineRules', () => {
  it('refuses a table that misses a method or names a field the request does not have', () => {
    const complete = Object.fromEntries(UserService.methods.map((m) => [m.localName, rule.signedIn()])) as Record<string, Rule>;
    assert.doesNotThrow(() => defineRules(UserService, complete as never));
    const { getMe: _, ...missing } = complete;
    assert.throws(() => defineRules(UserService, missing as never), /GetMe has no authorization rule/);
    assert.throws(() => defineRules(UserService, { ...complete, getProfile: rule.signedIn({ hiddenByBlock: 'userid' }) } as never), /"userid"/);
    assert.throws(() => defineRules(UserService, { ...complete, nope: rule.public() } as never), /"nope"/);
  });
});

describe('decide', () => {
  const circleRule = (level: 'visible' | 'member' | 'host' | 'owner', moderators = false) => rule.circle('circleId', level, { moderators });
  const run = (r: Rule, caller: Caller | undefined, sources: AuthorizationSources, message = getCircle(CIRCLE)) =>
    decide(r, caller, GetCircleRequestSchema, message, sources);

  it('hides a private circle from non-members and from unknown ids alike', async () => {
    const { sources } = world({ members: { [ALICE]: 'owner' } });
    assert.deepEqual(await run(circleRule('visible'), user(BOB), sources), { allow: false, code: Code.NotFound, message: 'circle not found' });
    const unknown = await run(circleRule('visible'), user(BOB), sources, getCircle('0192d5e0-0000-7000-8000-0000000000ff'));
    assert.deepEqual(unknown, { allow: false, code: Code.NotFound, message: 'circle not found' });
    assert.equal((await run(circleRule('owner'), user(ALICE), sources)).allow, true);
  });

  it('tells non-members of a public circle PermissionDenied, and ranks circle roles', async () => {
    const { sources } = world({ members: { [ALICE]: 'host' }, visibility: 'public' });
    assert.equal((await run(circleRule('visible'), user(BOB), sources)).allow, true);
    assert.equal(((await run(circleRule('member'), user(BOB), sources)) as { code: Code }).code, Code.PermissionDenied);
    assert.equal((await run(circleRule('member'), user(ALICE), sources)).allow, true);
    assert.equal(((await run(circleRule('owner'), user(ALICE), sources)) as { code: Code }).code, Code.PermissionDenied);
  });

  it('lets platform staff in only where the rule says so, without asking the circle service', async () => {
    const { sources, asked } = world({});
    assert.equal((await run(circleRule('owner', true), user(BOB, ['user', 'moderator']), sources)).allow, true);
    assert.deepEqual(asked, []);
    assert.equal(((await run(circleRule('owner', false), user(BOB, ['user', 'admin']), sources)) as { code: Code }).code, Code.NotFound);
  });

  it('refuses a malformed circle id before asking anyone', async () => {
    const { sources, asked } = world({});
    const d = await run(circleRule('member'), user(BOB), sources, getCircle('nope'));
    assert.equal((d as { code: Code }).code, Code.InvalidArgument);
    assert.deepEqual(asked, []);
  });

  it('anonymous callers are Unauthenticated; services pass only internal rules', async () => {
    const { sources } = world({});
    const service: Caller = { kind: 'service', service: { service: 'user' } };
    assert.equal(((await run(rule.signedIn(), undefined, sources)) as { code: Code }).code, Code.Unauthenticated);
    assert.equal((await run(rule.public(), undefined, sources)).allow, true);
    assert.equal((await run(rule.internal(), service, sources)).allow, true);
    assert.equal(((await run(rule.signedIn(), service, sources)) as { code: Code }).code, Code.PermissionDenied);
    assert.equal((await run(rule.signedIn({ services: true }), service, sources)).allow, true);
  });

  it('internal rules admit the named roles and a user asking about themself', async () => {
    const { sources } = world({});
    const r = rule.internal({ roles: ['moderator'], selfField: 'userId' });
    const about = (userId: string) => create(GetMembershipRequestSchema, { circleId: CIRCLE, userId });
    const ask = (caller: Caller, userId: string) => decide(r, caller, GetMembershipRequestSchema, about(userId), sources);
    assert.equal((await ask(user(ALICE), ALICE)).allow, true);
    assert.equal(((await ask(user(ALICE), BOB)) as { code: Code }).code, Code.PermissionDenied);
    assert.equal((await ask(user(ALICE, ['user', 'admin']), BOB)).allow, true, 'an admin may do what a moderator may');
  });

  it('a block in either direction hides the other person as NotFound, except from staff', async () => {
    const { sources } = world({ blocks: [[BOB, ALICE]] });
    const r = rule.signedIn({ hiddenByBlock: 'userId' });
    const profile = create(GetProfileRequestSchema, { lookup: { case: 'userId', value: BOB } });
    const ask = (caller: Caller) => decide(r, caller, GetProfileRequestSchema, profile, sources);
    assert.equal(((await ask(user(ALICE))) as { code: Code }).code, Code.NotFound);
    assert.equal((await ask(user(ALICE, ['user', 'moderator']))).allow, true);
    const byHandle = create(GetProfileRequestSchema, { lookup: { case: 'handle', value: 'bob' } });
    assert.equal((await decide(r, user(ALICE), GetProfileRequestSchema, byHandle, sources)).allow, true, 'by handle the service decides');
  });
});

describe('ServiceTokens', () => {
  const secret = 'a'.repeat(32);

  it('verifies its own tokens and refuses others', async () => {
    const tokens = new ServiceTokens(secret, 'auth');
    assert.deepEqual(await tokens.verify(await tokens.token()), { service: 'auth' });
    const stranger = new ServiceTokens('b'.repeat(32), 'auth');
    assert.equal(await tokens.verify(await stranger.token()), undefined);
    assert.equal(await tokens.verify('not-a-jwt'), undefined);
    assert.throws(() => new ServiceTokens('short', 'auth'), /32 bytes/);
  });

  it('refuses an expired token and renews before expiry', async () => {
    let now = Date.parse('2026-11-23T10:00:00Z');
    const tokens = new ServiceTokens(secret, 'circle', () => now);
    const first = await tokens.token();
    // Verified once (and remembered), still refused once it has expired.
    assert.deepEqual(await tokens.verify(first), { service: 'circle' });
    assert.deepEqual(await tokens.verify(first), { service: 'circle' });
    now += 4 * 60_000 + 30_000;
    const renewed = await tokens.token();
    assert.notEqual(renewed, first, 'renewed a minute before expiry');
    now += 10 * 60_000;
    assert.equal(await tokens.verify(first), undefined);
    // Right at the edge: the five minutes plus the 30 s clock tolerance.
    let edge = Date.parse('2026-11-23T12:00:00Z');
    const edgeTokens = new ServiceTokens(secret, 'user', () => edge);
    const t = await edgeTokens.token();
    assert.ok(await edgeTokens.verify(t));
    edge += 5 * 60_000 + 29_000;
    assert.ok(await edgeTokens.verify(t), 'within the tolerance');
    edge += 2_000;
    assert.equal(await edgeTokens.verify(t), undefined, 'past it, though remembered');
  });
});
