// What other services (and people, about themselves) ask about membership, and what happens to
// a deleted account's circles.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type TestSystem, cast, newCircle, refusal, startSystem } from './helpers.js';

let sys: TestSystem;

beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.close();
});

const byId = (circleId: string) => ({ target: { case: 'circleId' as const, value: circleId } });

describe('GetMembership, BatchGetMemberships, RemoveUserFromCircles', () => {
  it('answers services about anyone, and people only about themselves', async () => {
    const c = await cast(sys, 0, 1, CircleVisibility.PRIVATE);
    const m = c.members[0]!;
    const outsider = await sys.person('outsider');
    const svc = await sys.asService('realtime');
    const { membership, maxAge } = await sys.circle.getMembership({ circleId: c.circleId, userId: m.userId }, svc);
    assert.equal(membership?.role, MemberRole.MEMBER);
    assert.equal(membership?.visibility, CircleVisibility.PRIVATE);
    assert.ok(Number(maxAge?.seconds) > 0 && Number(maxAge?.seconds) <= 10);
    const none = await sys.circle.getMembership({ circleId: c.circleId, userId: outsider.userId }, svc);
    assert.equal(none.membership?.role, MemberRole.UNSPECIFIED, 'not being a member is an answer');
    assert.equal((await refusal(sys.circle.getMembership({ circleId: c.circleId, userId: m.userId }, outsider.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.circle.getMembership({ circleId: c.circleId, userId: outsider.userId }, outsider.call))).code, Code.NotFound);
    const missing = '01900000-0000-7000-8000-000000000000';
    assert.equal((await refusal(sys.circle.getMembership({ circleId: missing, userId: m.userId }, svc))).code, Code.NotFound);
    const batch = await sys.circle.batchGetMemberships({ userId: m.userId, circleIds: [c.circleId, missing] }, m.call);
    assert.deepEqual(
      batch.memberships.map((x) => [x.circleId, x.role]),
      [[c.circleId, MemberRole.MEMBER]],
    );
    await sys.circle.removeMember({ circleId: c.circleId, userId: m.userId, ban: true }, c.owner.call);
    const banned = await sys.circle.getMembership({ circleId: c.circleId, userId: m.userId }, svc);
    assert.equal(banned.membership?.banned, true);
    assert.equal(banned.membership?.role, MemberRole.UNSPECIFIED);
  });

  it('lists the circles a user is in, most recently joined first, for services and for themselves only', async () => {
    const p = await sys.person('joiner');
    const outsider = await sys.person('outsider');
    const svc = await sys.asService('post');
    const joined: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await cast(sys, 0, 0);
      await sys.circle.joinCircle(byId(c.circleId), p.call);
      joined.push(c.circleId);
    }
    const own = (await sys.circle.createCircle(newCircle(), p.call)).circle!.id;
    const listed = await sys.circle.listUserCircleIds({ userId: p.userId }, svc);
    assert.deepEqual(listed.circleIds, [own, ...joined.reverse()]);
    assert.equal(listed.truncated, false);
    assert.ok(Number(listed.maxAge?.seconds) > 0);
    assert.deepEqual((await sys.circle.listUserCircleIds({ userId: p.userId }, p.call)).circleIds, listed.circleIds, 'about themself');
    assert.equal((await refusal(sys.circle.listUserCircleIds({ userId: p.userId }, outsider.call))).code, Code.PermissionDenied);
    await sys.circle.leaveCircle({ circleId: joined[0]! }, p.call);
    assert.ok(!(await sys.circle.listUserCircleIds({ userId: p.userId }, svc)).circleIds.includes(joined[0]!), 'left');
    assert.deepEqual((await sys.circle.listUserCircleIds({ userId: '01900000-0000-7000-8000-000000000001' }, svc)).circleIds, []);
  });

  it('removes a deleted account everywhere: ownership to the longest-serving host, else archive', async () => {
    const gone = await sys.person('gone');
    const withHosts = (await sys.circle.createCircle(newCircle(), gone.call)).circle?.id ?? '';
    const [h1, h2] = [await sys.person('h1'), await sys.person('h2')];
    for (const h of [h1, h2]) {
      await sys.circle.joinCircle(byId(withHosts), h.call);
      await sys.circle.setMemberRole({ circleId: withHosts, userId: h.userId, role: MemberRole.HOST, version: 1n }, gone.call);
    }
    const alone = (await sys.circle.createCircle(newCircle(), gone.call)).circle?.id ?? '';
    const c = await cast(sys, 0, 0);
    await sys.circle.joinCircle(byId(c.circleId), gone.call);
    // People may not call it, not even about themselves.
    assert.equal((await refusal(sys.circle.removeUserFromCircles({ userId: gone.userId }, gone.call))).code, Code.PermissionDenied);
    const svc = await sys.asService('user');
    const res = await sys.circle.removeUserFromCircles({ userId: gone.userId }, svc);
    assert.deepEqual([res.circleCount, res.archivedCount], [3, 1]);
    const heir = await sys.circle.getCircle({ circleId: withHosts }, h1.call);
    assert.equal(heir.circle?.ownerId, h1.userId);
    assert.equal(heir.circle?.myMembership?.role, MemberRole.OWNER);
    assert.equal(heir.circle?.memberCount, 2);
    const archived = await sys.db.db.selectFrom('circles').select('archive_time').where('id', '=', alone).executeTakeFirstOrThrow();
    assert.ok(archived.archive_time);
    assert.equal((await sys.circle.listMyCircles({ includeArchived: true }, gone.call)).circles.length, 0);
    const again = await sys.circle.removeUserFromCircles({ userId: gone.userId }, svc);
    assert.deepEqual([again.circleCount, again.archivedCount], [0, 0]);
  });
});
