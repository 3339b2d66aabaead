// Membership events reach the bus after the change commits, for every kind of change, and never
// for a change that rolled back.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, it } from 'vitest';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { type MembershipEvent, membershipTopic } from '@hearth/authz';
import { MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { sql } from 'kysely';
import { type TestSystem, newCircle, refusal, startSystem } from './helpers.js';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.close();
});

const of = (circleId: string) => (events: readonly MembershipEvent[]) => events.filter((e) => e.circleId === circleId);
const byId = (circleId: string) => ({ target: { case: 'circleId' as const, value: circleId } });

it('publishes one event per membership change, once the change is visible', async () => {
  const [owner, a, b] = await Promise.all([sys.person('owner'), sys.person('a'), sys.person('b')]);
  // Each event is checked against the database the moment it arrives: the row must be there.
  const seenCommitted: Array<Promise<boolean>> = [];
  const off = sys.host.runtime.bus.subscribe(membershipTopic, (e) => {
    if (e.change !== 'joined' || e.userId !== a.userId) return;
    seenCommitted.push(
      sys.db.db
        .selectFrom('members')
        .select('user_id')
        .where('circle_id', '=', e.circleId)
        .where('user_id', '=', a.userId)
        .executeTakeFirst()
        .then((row) => row !== undefined),
    );
  });
  try {
    const circleId = (await sys.circle.createCircle(newCircle(), owner.call)).circle?.id ?? '';
    await sys.circle.joinCircle(byId(circleId), a.call);
    await sys.circle.joinCircle(byId(circleId), a.call); // idempotent: no second event
    await sys.circle.joinCircle(byId(circleId), b.call);
    await sys.circle.setMemberRole({ circleId, userId: a.userId, role: MemberRole.HOST, version: 1n }, owner.call);
    await sys.circle.muteMember({ circleId, userId: b.userId, duration: durationFromMs(60_000) }, a.call);
    await sys.circle.unmuteMember({ circleId, userId: b.userId }, a.call);
    await sys.circle.removeMember({ circleId, userId: b.userId }, a.call);
    await sys.circle.removeMember({ circleId, userId: b.userId, ban: true }, a.call);
    await sys.circle.unbanMember({ circleId, userId: b.userId }, a.call);
    await sys.circle.setMemberRole({ circleId, userId: a.userId, role: MemberRole.OWNER, version: 2n }, owner.call);
    await sys.circle.leaveCircle({ circleId }, owner.call);
    await sys.circle.leaveCircle({ circleId }, a.call);
    const expected = [
      { userId: owner.userId, change: 'joined', role: 'owner', member: true },
      { userId: a.userId, change: 'joined', role: 'member', member: true },
      { userId: b.userId, change: 'joined', role: 'member', member: true },
      { userId: a.userId, change: 'role', role: 'host', member: true },
      { userId: b.userId, change: 'muted', role: 'member', member: true },
      { userId: b.userId, change: 'unmuted', role: 'member', member: true },
      { userId: b.userId, change: 'removed' },
      { userId: b.userId, change: 'banned' },
      { userId: b.userId, change: 'unbanned' },
      { userId: a.userId, change: 'role', role: 'owner', member: true },
      { userId: owner.userId, change: 'role', role: 'host', member: true },
      { userId: owner.userId, change: 'left' },
      { userId: a.userId, change: 'left' },
      { userId: a.userId, change: 'archived' },
    ];
    await sys.waitForEvents((e) => of(circleId)(e).length >= expected.length, 'every membership event');
    await new Promise((r) => setTimeout(r, 100)); // a straggler would show up here
    assert.deepEqual(
      // `member` (the membership as it is now) is there wherever there is one.
      of(circleId)(sys.events).map(({ circleId: _, member, ...rest }) => (member ? { ...rest, member: true } : rest)),
      expected,
    );
    assert.deepEqual(await Promise.all(seenCommitted), [true]);
  } finally {
    off();
  }
});

it('publishes a visibility change for everyone in the circle', async () => {
  const owner = await sys.person('owner');
  const circleId = (await sys.circle.createCircle(newCircle(), owner.call)).circle?.id ?? '';
  await sys.circle.updateCircle({ circleId, version: 1n, name: 'Renamed' }, owner.call);
  await sys.circle.updateCircle({ circleId, version: 2n, visibility: 2 }, owner.call);
  await sys.waitForEvents((e) => of(circleId)(e).some((x) => x.change === 'visibility'), 'the visibility event');
  assert.deepEqual(
    of(circleId)(sys.events).map((e) => e.change),
    ['joined', 'visibility'],
  );
});

it('publishes nothing when the change rolls back', async () => {
  const [owner, heir] = await Promise.all([sys.person('owner'), sys.person('heir')]);
  const circleId = (await sys.circle.createCircle(newCircle(), owner.call)).circle?.id ?? '';
  await sys.circle.joinCircle(byId(circleId), heir.call);
  await sys.waitForEvents((e) => of(circleId)(e).length === 2, 'the joins');
  // Fail the ownership transfer at its last write (the audit entry), after its events were queued.
  await sql`
    create function circles.refuse_audit() returns trigger language plpgsql as $$
    begin raise exception 'audit refused by the test'; end $$
  `.execute(sys.db.db);
  await sql`create trigger refuse_audit before insert on circles.audit_events for each row execute function circles.refuse_audit()`.execute(sys.db.db);
  try {
    const err = await refusal(sys.circle.setMemberRole({ circleId, userId: heir.userId, role: MemberRole.OWNER, version: 1n }, owner.call));
    assert.equal(err.code, Code.Internal);
  } finally {
    await sql`drop trigger refuse_audit on circles.audit_events`.execute(sys.db.db);
    await sql`drop function circles.refuse_audit()`.execute(sys.db.db);
  }
  // Something that does commit, as a marker: events arrive in order, so once it is here any
  // event of the failed call would have been too.
  await sys.circle.leaveCircle({ circleId }, heir.call);
  await sys.waitForEvents((e) => of(circleId)(e).some((x) => x.change === 'left'), 'the marker');
  assert.deepEqual(
    of(circleId)(sys.events).map((e) => e.change),
    ['joined', 'joined', 'left'],
  );
  // Nothing half-written: the owner is still the owner, the heir was a member until they left.
  const circle = await sys.db.db.selectFrom('circles').select(['owner_id', 'version', 'member_count']).where('id', '=', circleId).executeTakeFirstOrThrow();
  assert.deepEqual([circle.owner_id, circle.version, circle.member_count], [owner.userId, '1', 1]);
});
