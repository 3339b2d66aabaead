// Issue 4's story through the whole system and the typed SDK, as an app would live it: two
// people register (their profiles arrive through auth's job queue), A makes a private circle
// that B cannot see, A invites B, B joins and lists it, B blocks A and A's profile disappears
// for B. Also: authorization follows membership changes at once (the cache is invalidated by
// the membership event), and deleting an account reaches auth and the circles.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { type HearthClient, createHearthClient } from '@hearth/client';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { AccountState } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import type { SupportApp } from '@hearth/service-support';
import { newUser, startWholeSystem, type WholeSystem } from './helpers.js';

interface Person {
  readonly id: string;
  readonly handle: string;
  readonly email: string;
  readonly password: string;
  readonly client: HearthClient;
}

async function refusedWith(promise: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.equal(ConnectError.from(err).code, code, ConnectError.from(err).message);
    return true;
  });
}

async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('users and circles, end to end', () => {
  let system: WholeSystem;

  beforeAll(async () => {
    system = await startWholeSystem();
  });
  afterAll(async () => {
    await system?.close();
  });

  async function register(prefix: string): Promise<Person> {
    const req = newUser(prefix);
    const { tokens } = await system.client.auth.register(req);
    assert.ok(tokens);
    const access = tokens.accessToken;
    const client = createHearthClient({ baseUrl: system.url, getAccessToken: () => access });
    // The profile is created by a job that auth enqueued with the account.
    const { profile } = await eventually(() => client.user.getMe({}));
    assert.ok(profile);
    assert.equal(profile.handle, req.handle.toLowerCase());
    return { id: profile.id, handle: profile.handle, email: req.email, password: req.password, client };
  }

  it('private circle, invite, join, block: the Done-when story', async () => {
    const a = await register('ash');
    const b = await register('birch');

    const { circle } = await a.client.circle.createCircle({
      name: 'Night owls',
      description: 'for the small hours',
      visibility: CircleVisibility.PRIVATE,
      idempotencyKey: `create-${a.id}`,
    });
    assert.ok(circle);
    await refusedWith(b.client.circle.getCircle({ circleId: circle.id }), Code.NotFound);
    await refusedWith(b.client.circle.listMembers({ circleId: circle.id }), Code.NotFound);

    const { invite } = await a.client.circle.createInvite({ circleId: circle.id, maxUses: 1, idempotencyKey: `invite-${circle.id}` });
    assert.ok(invite);
    await b.client.circle.joinCircle({ target: { case: 'inviteCode', value: invite.code } });
    const seen = await b.client.circle.getCircle({ circleId: circle.id });
    assert.equal(seen.circle?.memberCount, 2);
    const mine = await b.client.circle.listMyCircles({});
    assert.deepEqual(
      mine.circles.map((c) => c.id),
      [circle.id],
    );

    assert.equal((await b.client.user.getProfile({ lookup: { case: 'userId', value: a.id } })).profile?.handle, a.handle);
    await b.client.user.blockUser({ userId: a.id });
    await refusedWith(b.client.user.getProfile({ lookup: { case: 'userId', value: a.id } }), Code.NotFound);
    await refusedWith(b.client.user.getProfile({ lookup: { case: 'handle', value: a.handle } }), Code.NotFound);
    // Symmetric: A no longer sees B either; both still share the circle.
    await refusedWith(a.client.user.getProfile({ lookup: { case: 'userId', value: b.id } }), Code.NotFound);
    assert.equal((await a.client.circle.listMembers({ circleId: circle.id })).members.length, 2);
    await b.client.user.unblockUser({ userId: a.id });
    assert.equal((await b.client.user.getProfile({ lookup: { case: 'userId', value: a.id } })).profile?.id, a.id);
  });

  it('a removed member loses access at once, not when a cache expires', async () => {
    const owner = await register('oak');
    const member = await register('elm');
    const { circle } = await owner.client.circle.createCircle({
      name: 'Quiet room',
      visibility: CircleVisibility.PRIVATE,
      idempotencyKey: `create-${owner.id}`,
    });
    assert.ok(circle);
    const { invite } = await owner.client.circle.createInvite({ circleId: circle.id, idempotencyKey: `invite-${circle.id}` });
    assert.ok(invite);
    await member.client.circle.joinCircle({ target: { case: 'inviteCode', value: invite.code } });
    // Warm the authorization cache with "member".
    assert.equal((await member.client.circle.listMembers({ circleId: circle.id })).members.length, 2);
    await owner.client.circle.removeMember({ circleId: circle.id, userId: member.id, ban: true, reason: 'test' });
    await refusedWith(member.client.circle.listMembers({ circleId: circle.id }), Code.NotFound);
    await refusedWith(member.client.circle.joinCircle({ target: { case: 'inviteCode', value: invite.code } }), Code.PermissionDenied);
  });

  it('deleting an account ends its sessions, refuses sign-in, leaves its circles and erases its support data', async () => {
    const owner = await register('pine');
    const leaver = await register('yew');
    const { circle } = await owner.client.circle.createCircle({
      name: 'Open door',
      visibility: CircleVisibility.PUBLIC,
      idempotencyKey: `create-${owner.id}`,
    });
    assert.ok(circle);
    await leaver.client.circle.joinCircle({ target: { case: 'circleId', value: circle.id } });
    await leaver.client.support.updateSafetyPlan({ version: 0n, warningSigns: ['late nights'] });
    const { purgeTime } = await leaver.client.user.deleteAccount({ confirmHandle: leaver.handle.toUpperCase() });
    assert.ok(purgeTime);
    await refusedWith(leaver.client.user.getMe({}), Code.Unauthenticated);
    await refusedWith(system.client.auth.login({ email: leaver.email, password: leaver.password, deviceName: 'again', tokenDelivery: TokenDelivery.BODY }), Code.Unauthenticated);
    const gone = await owner.client.user.getProfile({ lookup: { case: 'userId', value: leaver.id } });
    assert.equal(gone.profile?.state, AccountState.DELETED);
    assert.equal(gone.profile?.displayName, '');
    await eventually(async () => {
      const { members } = await owner.client.circle.listMembers({ circleId: circle.id });
      assert.deepEqual(
        members.map((m) => m.userId),
        [owner.id],
      );
    });
    // The safety plan is erased for real, by the job DeleteAccount queued (no one can read it to check, so the row is looked for).
    await eventually(async () => {
      const support = system.modules.find((m) => m.name === 'support') as SupportApp;
      const rows = await support.db.db.selectFrom('safety_plans').select('user_id').where('user_id', '=', leaver.id).execute();
      assert.deepEqual(rows, []);
    });
  });
});
