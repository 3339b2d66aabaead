// Membership: joining and leaving, roles and ownership, removal and bans, mutes that lift by the
// clock, and what other services ask about it.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { sql } from 'kysely';
import { type TestSystem, cast, memberVersion, newCircle, refusal, startSystem } from './helpers.js';

const MINUTE = 60_000;
let sys: TestSystem;

beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.close();
});

const byId = (circleId: string) => ({ target: { case: 'circleId' as const, value: circleId } });

/**
 * Sends `calls` to a circle whose row lock the test holds, each once the one before is waiting
 * for that lock, then lets go. Postgres grants a row lock to its waiters in the order they
 * queued, so the calls take it, and so commit, in the order given, however loaded the machine.
 */
async function inLockOrder<T>(circleId: string, calls: ReadonlyArray<() => Promise<T>>): Promise<PromiseSettledResult<T>[]> {
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  let locked = () => {};
  const holding = new Promise<void>((r) => (locked = r));
  const holder = sys.db.db.transaction().execute(async (trx) => {
    await trx.selectFrom('circles').select('id').where('id', '=', circleId).forUpdate().execute();
    locked();
    await released;
  });
  await Promise.race([holding, holder]);
  const settled: Array<Promise<PromiseSettledResult<T>>> = [];
  try {
    for (const call of calls) {
      const outcome = call().then(
        (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
        (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
      );
      let done = false;
      void outcome.then(() => (done = true));
      settled.push(outcome);
      const deadline = Date.now() + 10_000;
      for (;;) {
        // The calls run on the circle service's own pool; the holder's connection is idle in its transaction.
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name = 'hearth-circle' and wait_event_type = 'Lock'
        `.execute(sys.db.db);
        if ((rows[0]?.n ?? 0) >= settled.length) break;
        if (done) assert.fail(`call ${settled.length} finished without waiting for the lock: ${JSON.stringify(await settled.at(-1))}`);
        if (Date.now() > deadline) assert.fail(`call ${settled.length} never queued on the circle's lock`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } finally {
    release();
    await holder;
  }
  return Promise.all(settled);
}

describe('JoinCircle and LeaveCircle', () => {
  it('joins a public circle by id, idempotently', async () => {
    const c = await cast(sys, 0, 0);
    const p = await sys.person('joiner');
    const first = await sys.circle.joinCircle(byId(c.circleId), p.call);
    const again = await sys.circle.joinCircle(byId(c.circleId), p.call);
    assert.deepEqual(again.member?.joinTime, first.member?.joinTime);
    assert.equal(again.circle?.memberCount, 2);
    assert.equal((await refusal(sys.circle.joinCircle(byId('01900000-0000-7000-8000-000000000000'), p.call))).code, Code.NotFound);
  });

  it('refuses a full circle with FailedPrecondition', async () => {
    const owner = await sys.person('owner');
    const { circle } = await sys.circle.createCircle(newCircle({ memberCap: 2 }), owner.call);
    const [a, b] = await Promise.all([sys.person('a'), sys.person('b')]);
    await sys.circle.joinCircle(byId(circle?.id ?? ''), a.call);
    assert.equal((await refusal(sys.circle.joinCircle(byId(circle?.id ?? ''), b.call))).code, Code.FailedPrecondition);
  });

  it('keeps the owner in while others remain; the last owner leaving archives the circle', async () => {
    const c = await cast(sys, 0, 1);
    const err = await refusal(sys.circle.leaveCircle({ circleId: c.circleId }, c.owner.call));
    assert.equal(err.code, Code.FailedPrecondition);
    await sys.circle.leaveCircle({ circleId: c.circleId }, c.members[0]!.call);
    await sys.circle.leaveCircle({ circleId: c.circleId }, c.members[0]!.call); // idempotent
    await sys.circle.leaveCircle({ circleId: c.circleId }, c.owner.call);
    const row = await sys.db.db.selectFrom('circles').selectAll().where('id', '=', c.circleId).executeTakeFirstOrThrow();
    assert.ok(row.archive_time);
    assert.equal(row.member_count, 0);
    // Leaving a circle that does not exist succeeds too, revealing nothing.
    await sys.circle.leaveCircle({ circleId: '01900000-0000-7000-8000-000000000000' }, c.owner.call);
  });
});

describe('ListMembers', () => {
  it('lists the owner, then hosts, then members, each oldest first, in pages', async () => {
    const c = await cast(sys, 2, 3);
    const expected = [c.owner, ...c.hosts, ...c.members].map((p) => p.userId);
    const seen: string[] = [];
    let token = '';
    do {
      const page = await sys.circle.listMembers({ circleId: c.circleId, pageSize: 2, pageToken: token }, c.members[2]!.call);
      seen.push(...page.members.map((m) => m.userId));
      token = page.nextPageToken;
    } while (token);
    assert.deepEqual(seen, expected);
    const hosts = await sys.circle.listMembers({ circleId: c.circleId, role: MemberRole.HOST }, c.owner.call);
    assert.deepEqual(
      hosts.members.map((m) => m.userId),
      c.hosts.map((h) => h.userId),
    );
    const outsider = await sys.person('outsider');
    assert.equal((await refusal(sys.circle.listMembers({ circleId: c.circleId }, outsider.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.app.admin.list(outsider.actor, { circleId: c.circleId, role: undefined, pageSize: 0, pageToken: '' }))).code, Code.PermissionDenied);
  });
});

describe('SetMemberRole', () => {
  it('transfers ownership: the previous owner becomes a host', async () => {
    const c = await cast(sys, 0, 1);
    const heir = c.members[0]!;
    const { member } = await sys.circle.setMemberRole(
      { circleId: c.circleId, userId: heir.userId, role: MemberRole.OWNER, version: await memberVersion(sys, c.circleId, heir.userId) },
      c.owner.call,
    );
    assert.equal(member?.role, MemberRole.OWNER);
    const { circle } = await sys.circle.getCircle({ circleId: c.circleId }, c.owner.call);
    assert.equal(circle?.ownerId, heir.userId);
    assert.equal(circle?.myMembership?.role, MemberRole.HOST);
    // The former owner is a host now: no longer allowed to change roles, and may leave.
    const err = await refusal(sys.circle.setMemberRole({ circleId: c.circleId, userId: heir.userId, role: MemberRole.MEMBER, version: 2n }, c.owner.call));
    assert.equal(err.code, Code.PermissionDenied);
    await sys.circle.leaveCircle({ circleId: c.circleId }, c.owner.call);
  });

  it("refuses the owner's own role change, a stale version and a non-member", async () => {
    const c = await cast(sys, 0, 1);
    const own = await refusal(
      sys.circle.setMemberRole({ circleId: c.circleId, userId: c.owner.userId, role: MemberRole.HOST, version: 1n }, c.owner.call),
    );
    assert.equal(own.code, Code.FailedPrecondition);
    const m = c.members[0]!;
    await sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.HOST, version: 1n }, c.owner.call);
    const stale = await refusal(sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.MEMBER, version: 1n }, c.owner.call));
    assert.equal(stale.code, Code.Aborted);
    const stranger = await sys.person('stranger');
    const missing = await refusal(sys.circle.setMemberRole({ circleId: c.circleId, userId: stranger.userId, role: MemberRole.HOST, version: 1n }, c.owner.call));
    assert.equal(missing.code, Code.NotFound);
  });

  // Two owner calls with the same version, both past authorization and queued on the circle's
  // lock before either commits. Which one Postgres serves first used to be left to chance: when
  // the transfer went first the caller was no longer the owner, so the other call was refused as
  // PermissionDenied, not Aborted. The order is fixed here and both orders are checked.
  it('lets the first of two concurrent changes with the same version win; the other is Aborted', async () => {
    const c = await cast(sys, 0, 1);
    const m = c.members[0]!;
    const version = await memberVersion(sys, c.circleId, m.userId);
    const results = await inLockOrder(c.circleId, [
      () => sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.HOST, version }, c.owner.call),
      () => sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.OWNER, version }, c.owner.call),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(won[0]?.value.member?.role, MemberRole.HOST);
    const aborted = ConnectError.from(lost[0]?.reason);
    assert.equal(aborted.code, Code.Aborted);
    assert.match(aborted.rawMessage, new RegExp(`now version ${version + 1n}\\b`));
    assert.equal(await memberVersion(sys, c.circleId, m.userId), version + 1n);
    const owners = await sys.db.db.selectFrom('members').select('user_id').where('circle_id', '=', c.circleId).where('role', '=', 'owner').execute();
    assert.deepEqual(
      owners.map((o) => o.user_id),
      [c.owner.userId],
      'exactly one owner',
    );
  });

  it('lets the transfer win when it comes first; the other call then finds its caller no longer the owner', async () => {
    const c = await cast(sys, 0, 1);
    const m = c.members[0]!;
    const version = await memberVersion(sys, c.circleId, m.userId);
    const [transfer, demoted] = await inLockOrder(c.circleId, [
      () => sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.OWNER, version }, c.owner.call),
      () => sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.HOST, version }, c.owner.call),
    ]);
    assert.equal(transfer?.status, 'fulfilled');
    assert.ok(demoted?.status === 'rejected', 'the later call is refused');
    assert.equal(ConnectError.from(demoted.reason).code, Code.PermissionDenied);
    assert.equal(await memberVersion(sys, c.circleId, m.userId), version + 1n);
    const owners = await sys.db.db.selectFrom('members').select('user_id').where('circle_id', '=', c.circleId).where('role', '=', 'owner').execute();
    assert.deepEqual(
      owners.map((o) => o.user_id),
      [m.userId],
      'exactly one owner, the new one',
    );
  });

  it('lets a platform moderator change roles in any circle', async () => {
    const c = await cast(sys, 0, 1);
    const mod = await sys.moderator();
    const m = c.members[0]!;
    const { member } = await sys.circle.setMemberRole({ circleId: c.circleId, userId: m.userId, role: MemberRole.HOST, version: 1n }, mod.call);
    assert.equal(member?.role, MemberRole.HOST);
  });
});

describe('RemoveMember, bans', () => {
  it('keeps hosts from removing the owner or other hosts', async () => {
    const c = await cast(sys, 2, 1);
    const [h0, h1] = c.hosts;
    for (const target of [c.owner, h1!]) {
      const err = await refusal(sys.circle.removeMember({ circleId: c.circleId, userId: target.userId }, h0!.call));
      assert.equal(err.code, Code.PermissionDenied);
    }
    assert.equal((await refusal(sys.circle.removeMember({ circleId: c.circleId, userId: h0!.userId }, h0!.call))).code, Code.FailedPrecondition);
    assert.equal((await refusal(sys.circle.removeMember({ circleId: c.circleId, userId: c.hosts[1]!.userId }, c.members[0]!.call))).code, Code.PermissionDenied);
    await sys.circle.removeMember({ circleId: c.circleId, userId: c.members[0]!.userId }, h0!.call);
    await sys.circle.removeMember({ circleId: c.circleId, userId: h1!.userId }, c.owner.call);
    const left = await sys.circle.listMembers({ circleId: c.circleId }, c.owner.call);
    assert.deepEqual(
      left.members.map((m) => m.userId),
      [c.owner.userId, h0!.userId],
    );
    assert.equal((await sys.circle.getCircle({ circleId: c.circleId }, c.owner.call)).circle?.memberCount, 2);
    const gone = await refusal(sys.circle.removeMember({ circleId: c.circleId, userId: c.members[0]!.userId }, h0!.call));
    assert.equal(gone.code, Code.NotFound);
  });

  it('bans members and non-members alike, blocks rejoining, and lists bans most recent first', async () => {
    const c = await cast(sys, 1, 1);
    const m = c.members[0]!;
    const outsider = await sys.person('outsider');
    await sys.circle.removeMember({ circleId: c.circleId, userId: m.userId, ban: true, reason: 'threats' }, c.hosts[0]!.call);
    await sys.circle.removeMember({ circleId: c.circleId, userId: outsider.userId, ban: true }, c.owner.call);
    assert.equal((await refusal(sys.circle.joinCircle(byId(c.circleId), m.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.circle.joinCircle(byId(c.circleId), outsider.call))).code, Code.PermissionDenied);
    const { bans } = await sys.circle.listBans({ circleId: c.circleId }, c.hosts[0]!.call);
    assert.deepEqual(
      bans.map((b) => [b.userId, b.bannedBy, b.reason]),
      [
        [outsider.userId, c.owner.userId, ''],
        [m.userId, c.hosts[0]!.userId, 'threats'],
      ],
    );
    assert.equal((await refusal(sys.circle.listBans({ circleId: c.circleId }, m.call))).code, Code.PermissionDenied);
    await sys.circle.unbanMember({ circleId: c.circleId, userId: m.userId }, c.hosts[0]!.call);
    await sys.circle.unbanMember({ circleId: c.circleId, userId: m.userId }, c.hosts[0]!.call);
    await sys.circle.joinCircle(byId(c.circleId), m.call);
    const audit = await sys.db.db.selectFrom('audit_events').select(['action', 'reason']).where('scope', '=', c.circleId).where('action', '=', 'member.ban').execute();
    assert.ok(audit.some((a) => a.reason === 'threats'));
  });

  it('lets a moderator remove anyone but the owner', async () => {
    const c = await cast(sys, 1, 0, CircleVisibility.PRIVATE);
    const mod = await sys.moderator();
    await sys.circle.removeMember({ circleId: c.circleId, userId: c.hosts[0]!.userId }, mod.call);
    assert.equal((await refusal(sys.circle.removeMember({ circleId: c.circleId, userId: c.owner.userId }, mod.call))).code, Code.FailedPrecondition);
  });
});

describe('MuteMember and UnmuteMember', () => {
  it('mutes until the clock passes the expiry, with no job to lift it', async () => {
    const c = await cast(sys, 1, 2);
    const [m, peer] = c.members;
    const { member } = await sys.circle.muteMember({ circleId: c.circleId, userId: m!.userId, duration: durationFromMs(10 * MINUTE), reason: 'cool off' }, c.hosts[0]!.call);
    assert.ok(member?.muteExpireTime);
    assert.equal(member?.version, 2n);
    const self = await sys.circle.getMembership({ circleId: c.circleId, userId: m!.userId }, m!.call);
    assert.ok(self.membership?.muteExpireTime, 'the member sees their own mute');
    assert.equal((await sys.circle.getCircle({ circleId: c.circleId }, m!.call)).circle?.myMembership?.muteExpireTime !== undefined, true);
    const asPeer = await sys.circle.listMembers({ circleId: c.circleId }, peer!.call);
    assert.equal(asPeer.members.find((x) => x.userId === m!.userId)?.muteExpireTime, undefined, 'other members do not see mutes');
    const asHost = await sys.circle.listMembers({ circleId: c.circleId }, c.hosts[0]!.call);
    assert.ok(asHost.members.find((x) => x.userId === m!.userId)?.muteExpireTime);
    // What other services learn (the answer authorization and realtime ask for by GetMembership).
    const svc = await sys.asService('realtime');
    const asked = await sys.circle.getMembership({ circleId: c.circleId, userId: m!.userId }, svc);
    assert.ok(asked.membership?.muteExpireTime);

    sys.advance(10 * MINUTE + 1);
    try {
      const later = await sys.circle.getMembership({ circleId: c.circleId, userId: m!.userId }, m!.call);
      assert.equal(later.membership?.muteExpireTime, undefined, 'a mute past its time is no mute');
      const askedLater = await sys.circle.getMembership({ circleId: c.circleId, userId: m!.userId }, svc);
      assert.equal(askedLater.membership?.muteExpireTime, undefined);
      const hostView = await sys.circle.listMembers({ circleId: c.circleId }, c.hosts[0]!.call);
      assert.equal(hostView.members.find((x) => x.userId === m!.userId)?.muteExpireTime, undefined);
      // Unmuting a mute that ran out changes nothing.
      const un = await sys.circle.unmuteMember({ circleId: c.circleId, userId: m!.userId }, c.hosts[0]!.call);
      assert.equal(un.member?.version, 2n);
    } finally {
      sys.advance(-(10 * MINUTE + 1));
    }
  });

  it('ends a mute early; re-muting replaces the expiry; hosts may not mute hosts or the owner', async () => {
    const c = await cast(sys, 2, 1);
    const m = c.members[0]!;
    await sys.circle.muteMember({ circleId: c.circleId, userId: m.userId, duration: durationFromMs(60 * MINUTE) }, c.hosts[0]!.call);
    const shorter = await sys.circle.muteMember({ circleId: c.circleId, userId: m.userId, duration: durationFromMs(5 * MINUTE) }, c.hosts[0]!.call);
    const ms = Number(shorter.member?.muteExpireTime?.seconds) * 1000 - Date.now();
    assert.ok(ms > 3 * MINUTE && ms < 6 * MINUTE, `expiry replaced, ${ms} ms left`);
    const un = await sys.circle.unmuteMember({ circleId: c.circleId, userId: m.userId }, c.hosts[1]!.call);
    assert.equal(un.member?.muteExpireTime, undefined);
    assert.equal(un.member?.version, 4n);
    for (const target of [c.owner, c.hosts[1]!]) {
      const err = await refusal(sys.circle.muteMember({ circleId: c.circleId, userId: target.userId, duration: durationFromMs(MINUTE) }, c.hosts[0]!.call));
      assert.equal(err.code, Code.PermissionDenied);
    }
    await sys.circle.muteMember({ circleId: c.circleId, userId: c.hosts[1]!.userId, duration: durationFromMs(MINUTE) }, c.owner.call);
    assert.equal((await refusal(sys.circle.unmuteMember({ circleId: c.circleId, userId: c.hosts[1]!.userId }, c.hosts[1]!.call))).code, Code.PermissionDenied);
    const outsider = await sys.person('outsider');
    assert.equal(
      (await refusal(sys.circle.muteMember({ circleId: c.circleId, userId: outsider.userId, duration: durationFromMs(MINUTE) }, c.owner.call))).code,
      Code.NotFound,
    );
    assert.equal(
      (await refusal(sys.circle.muteMember({ circleId: c.circleId, userId: m.userId, duration: durationFromMs(1_000) }, c.owner.call))).code,
      Code.InvalidArgument,
    );
  });
});
