// Invites: creating, listing, revoking, previewing and joining with them, including expiry, use
// limits and concurrent joins against the member cap.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { INVITE_ALPHABET } from '../src/service/invite-codes.js';
import { MAX_ACTIVE_INVITES } from '../src/service/invites.js';
import { type Person, type TestSystem, newCircle, refusal, startSystem } from './helpers.js';

const DAY = 86_400_000;
let sys: TestSystem;
let owner: Person;
let guest: Person;

beforeAll(async () => {
  sys = await startSystem();
  [owner, guest] = await Promise.all([sys.person('owner'), sys.person('guest')]);
});
afterAll(async () => {
  await sys?.close();
});

async function privateCircle(memberCap = 0): Promise<string> {
  const { circle } = await sys.circle.createCircle(newCircle({ visibility: CircleVisibility.PRIVATE, memberCap }), owner.call);
  return circle?.id ?? '';
}

const key = () => `invite-${crypto.randomUUID()}`;
const byCode = (code: string) => ({ target: { case: 'inviteCode' as const, value: code } });

describe('CreateInvite', () => {
  it('makes an unguessable 12-character code that works for 7 days by default', async () => {
    const circleId = await privateCircle();
    const { invite } = await sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call);
    assert.ok(invite);
    assert.match(invite.code, /^[A-Za-z0-9]{12}$/);
    for (const ch of invite.code) assert.ok(INVITE_ALPHABET.includes(ch), `${ch} is not ambiguous`);
    assert.ok(!/[0O1lIo]/.test(INVITE_ALPHABET));
    const ttl = Number(invite.expireTime?.seconds) - Number(invite.createTime?.seconds);
    assert.equal(ttl, 7 * 86_400);
    assert.equal(invite.creatorId, owner.userId);
    assert.equal(invite.useCount, 0);
    const codes = new Set<string>();
    for (let i = 0; i < 20; i++) codes.add((await sys.app.invites.create(owner.actor, { circleId, ttlMs: undefined, maxUses: 0, idempotencyKey: key() })).code);
    assert.equal(codes.size, 20);
  });

  it('returns the same invite for a retried key', async () => {
    const circleId = await privateCircle();
    const req = { circleId, idempotencyKey: key(), maxUses: 3, ttl: durationFromMs(3_600_000) };
    const [a, b] = await Promise.all([sys.circle.createInvite(req, owner.call), sys.circle.createInvite(req, owner.call)]);
    assert.equal(a.invite?.code, b.invite?.code);
    const { invites } = await sys.circle.listInvites({ circleId }, owner.call);
    assert.equal(invites.length, 1);
  });

  it('is for owners and hosts only', async () => {
    const { circle } = await sys.circle.createCircle(newCircle(), owner.call);
    const circleId = circle?.id ?? '';
    await sys.circle.joinCircle({ target: { case: 'circleId', value: circleId } }, guest.call);
    const err = await refusal(sys.circle.createInvite({ circleId, idempotencyKey: key() }, guest.call));
    assert.equal(err.code, Code.PermissionDenied);
    assert.equal((await refusal(sys.circle.listInvites({ circleId }, guest.call))).code, Code.PermissionDenied);
    // The service refuses members too, without the rule in front.
    assert.equal((await refusal(sys.app.invites.create(guest.actor, { circleId, ttlMs: undefined, maxUses: 0, idempotencyKey: key() }))).code, Code.PermissionDenied);
  });

  it(`allows ${MAX_ACTIVE_INVITES} active invites per circle, then ResourceExhausted until one is revoked`, async () => {
    const circleId = await privateCircle();
    const codes: string[] = [];
    for (let i = 0; i < MAX_ACTIVE_INVITES; i++) {
      codes.push((await sys.app.invites.create(owner.actor, { circleId, ttlMs: undefined, maxUses: 0, idempotencyKey: key() })).code);
    }
    const err = await refusal(sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call));
    assert.equal(err.code, Code.ResourceExhausted);
    await sys.circle.revokeInvite({ circleId, code: codes[0] ?? '' }, owner.call);
    await sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call);
  });
});

describe('ListInvites and RevokeInvite', () => {
  it('lists usable invites newest first, in pages, and drops revoked, expired and used-up ones', async () => {
    const circleId = await privateCircle();
    const make = async (maxUses = 0, ttlMs?: number) => {
      sys.advance(2); // distinct create times, so "newest first" has one answer
      const req = { circleId, idempotencyKey: key(), maxUses, ...(ttlMs ? { ttl: durationFromMs(ttlMs) } : {}) };
      return (await sys.circle.createInvite(req, owner.call)).invite?.code ?? '';
    };
    const short = await make(0, 600_000);
    const single = await make(1);
    const revoked = await make();
    const plain = [await make(), await make(), await make()];
    await sys.circle.revokeInvite({ circleId, code: revoked }, owner.call);
    await sys.circle.joinCircle(byCode(single), guest.call);
    sys.advance(601_000);
    try {
      const seen: string[] = [];
      let token = '';
      do {
        const page = await sys.circle.listInvites({ circleId, pageSize: 2, pageToken: token }, owner.call);
        seen.push(...page.invites.map((i) => i.code));
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(seen, [...plain].reverse());
      assert.ok(!seen.includes(short));
    } finally {
      sys.advance(-601_000);
    }
  });

  it('revokes at once and idempotently; a code of another circle is NotFound', async () => {
    const circleId = await privateCircle();
    const other = await privateCircle();
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call)).invite?.code ?? '';
    assert.equal((await refusal(sys.circle.revokeInvite({ circleId: other, code }, owner.call))).code, Code.NotFound);
    const first = await sys.circle.revokeInvite({ circleId, code }, owner.call);
    assert.ok(first.invite?.revokeTime);
    const again = await sys.circle.revokeInvite({ circleId, code }, owner.call);
    assert.deepEqual(again.invite?.revokeTime, first.invite?.revokeTime);
    const join = await refusal(sys.circle.joinCircle(byCode(code), guest.call));
    assert.equal(join.code, Code.NotFound);
    assert.equal((await refusal(sys.circle.previewInvite({ code }, guest.call))).code, Code.NotFound);
  });
});

describe('PreviewInvite and JoinCircle with a code', () => {
  it('previews a private circle for someone with the code, then joins it', async () => {
    const circleId = await privateCircle();
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key(), maxUses: 1 }, owner.call)).invite?.code ?? '';
    assert.equal((await refusal(sys.circle.getCircle({ circleId }, guest.call))).code, Code.NotFound);
    const preview = await sys.circle.previewInvite({ code }, guest.call);
    assert.equal(preview.circle?.id, circleId);
    assert.equal(preview.circle?.guidelines, 'Be kind.');
    assert.ok(preview.inviteExpireTime);
    const { circle, member } = await sys.circle.joinCircle(byCode(code), guest.call);
    assert.equal(circle?.memberCount, 2);
    assert.equal(member?.role, MemberRole.MEMBER);
    assert.equal(circle?.myMembership?.userId, guest.userId);
    // Joining again returns the membership and does not use the (now used-up) invite again.
    const again = await sys.circle.joinCircle(byCode(code), guest.call);
    assert.equal(again.member?.version, member?.version);
    const row = await sys.db.db.selectFrom('invites').select('use_count').where('code', '=', code).executeTakeFirstOrThrow();
    assert.equal(row.use_count, 1);
    const listed = await sys.circle.listMyCircles({}, guest.call);
    assert.ok(listed.circles.some((c) => c.id === circleId));
  });

  it('refuses unknown codes (NotFound), expired and used-up codes (FailedPrecondition)', async () => {
    const circleId = await privateCircle();
    assert.equal((await refusal(sys.circle.joinCircle(byCode('AAAAAAAAAAAA'), guest.call))).code, Code.NotFound);
    assert.equal((await refusal(sys.circle.previewInvite({ code: 'AAAAAAAAAAAA' }, guest.call))).code, Code.NotFound);
    assert.equal((await refusal(sys.circle.joinCircle(byCode('short'), guest.call))).code, Code.InvalidArgument);

    const expiring = (await sys.circle.createInvite({ circleId, idempotencyKey: key(), ttl: durationFromMs(300_000) }, owner.call)).invite?.code ?? '';
    sys.advance(300_001);
    try {
      assert.equal((await refusal(sys.circle.joinCircle(byCode(expiring), guest.call))).code, Code.FailedPrecondition);
      assert.equal((await refusal(sys.circle.previewInvite({ code: expiring }, guest.call))).code, Code.FailedPrecondition);
    } finally {
      sys.advance(-300_001);
    }

    const once = (await sys.circle.createInvite({ circleId, idempotencyKey: key(), maxUses: 1 }, owner.call)).invite?.code ?? '';
    const first = await sys.person('first');
    await sys.circle.joinCircle(byCode(once), first.call);
    const used = await refusal(sys.circle.joinCircle(byCode(once), guest.call));
    assert.equal(used.code, Code.FailedPrecondition);
    assert.equal((await refusal(sys.circle.previewInvite({ code: once }, guest.call))).code, Code.FailedPrecondition);
    const count = await sys.db.db.selectFrom('circles').select('member_count').where('id', '=', circleId).executeTakeFirstOrThrow();
    assert.equal(count.member_count, 2, 'nothing half-written by the refused joins');
  });

  it('keeps a private circle NotFound when joined by id, and an archived one closed', async () => {
    const circleId = await privateCircle();
    assert.equal((await refusal(sys.circle.joinCircle({ target: { case: 'circleId', value: circleId } }, guest.call))).code, Code.NotFound);
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call)).invite?.code ?? '';
    await sys.circle.archiveCircle({ circleId, version: 1n }, owner.call);
    assert.equal((await refusal(sys.circle.joinCircle(byCode(code), guest.call))).code, Code.FailedPrecondition);
    assert.equal((await refusal(sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call))).code, Code.FailedPrecondition);
  });

  it('lets exactly as many of 10 concurrent joins in as the cap leaves room for', async () => {
    const circleId = await privateCircle(4);
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call)).invite?.code ?? '';
    const people = await Promise.all(Array.from({ length: 10 }, (_, i) => sys.person(`racer${i}`)));
    const results = await Promise.allSettled(people.map((p) => sys.circle.joinCircle(byCode(code), p.call)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    assert.equal(ok.length, 3);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: Code }).code, Code.FailedPrecondition);
    const circle = await sys.db.db.selectFrom('circles').select('member_count').where('id', '=', circleId).executeTakeFirstOrThrow();
    assert.equal(circle.member_count, 4);
    const rows = await sys.db.db.selectFrom('members').select('user_id').where('circle_id', '=', circleId).execute();
    assert.equal(rows.length, 4);
    const invite = await sys.db.db.selectFrom('invites').select('use_count').where('code', '=', code).executeTakeFirstOrThrow();
    assert.equal(invite.use_count, 3);
  });

  it('never lets an invite be used more often than max_uses under concurrency', async () => {
    const circleId = await privateCircle();
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key(), maxUses: 2 }, owner.call)).invite?.code ?? '';
    const people = await Promise.all(Array.from({ length: 8 }, (_, i) => sys.person(`rusher${i}`)));
    const results = await Promise.allSettled(people.map((p) => sys.circle.joinCircle(byCode(code), p.call)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
    const invite = await sys.db.db.selectFrom('invites').select('use_count').where('code', '=', code).executeTakeFirstOrThrow();
    assert.equal(invite.use_count, 2);
  });

  it('refuses a banned person with PermissionDenied, even with a fresh code, until unbanned', async () => {
    const circleId = await privateCircle();
    const pest = await sys.person('pest');
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key() }, owner.call)).invite?.code ?? '';
    await sys.circle.joinCircle(byCode(code), pest.call);
    await sys.circle.removeMember({ circleId, userId: pest.userId, ban: true, reason: 'harassment' }, owner.call);
    assert.equal((await refusal(sys.circle.joinCircle(byCode(code), pest.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.circle.previewInvite({ code }, pest.call))).code, Code.PermissionDenied);
    await sys.circle.unbanMember({ circleId, userId: pest.userId }, owner.call);
    await sys.circle.joinCircle(byCode(code), pest.call);
  });

  it('lets long invites outlive a clock moved by days, and expire after', async () => {
    const circleId = await privateCircle();
    const code = (await sys.circle.createInvite({ circleId, idempotencyKey: key(), ttl: durationFromMs(2 * DAY) }, owner.call)).invite?.code ?? '';
    sys.advance(DAY);
    try {
      await sys.circle.previewInvite({ code }, guest.call);
      sys.advance(DAY);
      assert.equal((await refusal(sys.circle.previewInvite({ code }, guest.call))).code, Code.FailedPrecondition);
    } finally {
      sys.advance(-2 * DAY);
    }
  });
});
