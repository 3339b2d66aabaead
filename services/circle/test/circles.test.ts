// Circles themselves through a real server and the generated client: create, read, change,
// archive, and the two lists.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { CircleVisibility, MemberRole } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type Person, type TestSystem, newCircle, refusal, startSystem } from './helpers.js';

let sys: TestSystem;
let owner: Person;
let host: Person;
let member: Person;
let stranger: Person;

beforeAll(async () => {
  sys = await startSystem();
  [owner, host, member, stranger] = await Promise.all([sys.person('owner'), sys.person('host'), sys.person('member'), sys.person('stranger')]);
});
afterAll(async () => {
  await sys?.close();
});

/** A public circle of `owner` with `host` as host and `member` as member. */
async function staffedCircle(opts: { visibility?: CircleVisibility } = {}) {
  const { circle } = await sys.circle.createCircle(newCircle({ visibility: CircleVisibility.PUBLIC }), owner.call);
  assert.ok(circle);
  await sys.circle.joinCircle({ target: { case: 'circleId', value: circle.id } }, host.call);
  await sys.circle.joinCircle({ target: { case: 'circleId', value: circle.id } }, member.call);
  const hostRow = await sys.db.db.selectFrom('members').select('version').where('circle_id', '=', circle.id).where('user_id', '=', host.userId).executeTakeFirstOrThrow();
  await sys.circle.setMemberRole({ circleId: circle.id, userId: host.userId, role: MemberRole.HOST, version: BigInt(hostRow.version) }, owner.call);
  let version = circle.version;
  if (opts.visibility === CircleVisibility.PRIVATE) {
    const res = await sys.circle.updateCircle({ circleId: circle.id, version, visibility: CircleVisibility.PRIVATE }, owner.call);
    version = res.circle?.version ?? version;
  }
  return { id: circle.id, version };
}

describe('CreateCircle', () => {
  it('makes the caller the owner and first member, with the default cap', async () => {
    const { circle } = await sys.circle.createCircle(newCircle({ name: 'Night owls' }), owner.call);
    assert.ok(circle);
    assert.equal(circle.name, 'Night owls');
    assert.equal(circle.ownerId, owner.userId);
    assert.equal(circle.memberCap, 1000);
    assert.equal(circle.memberCount, 1);
    assert.equal(circle.version, 1n);
    assert.equal(circle.myMembership?.role, MemberRole.OWNER);
    assert.equal(circle.myMembership?.userId, owner.userId);
  });

  it('returns the first circle for a retried key, also when the retries race', async () => {
    const req = newCircle({ memberCap: 12 });
    const results = await Promise.all(Array.from({ length: 5 }, () => sys.circle.createCircle(req, owner.call)));
    const ids = new Set(results.map((r) => r.circle?.id));
    assert.equal(ids.size, 1);
    const rows = await sys.db.db.selectFrom('circles').select('id').where('idempotency_key', '=', req.idempotencyKey).execute();
    assert.equal(rows.length, 1);
    const members = await sys.db.db.selectFrom('members').select('user_id').where('circle_id', '=', rows[0]!.id).execute();
    assert.equal(members.length, 1);
    // Another person's identical key is another circle.
    const other = await sys.circle.createCircle(req, member.call);
    assert.notEqual(other.circle?.id, rows[0]!.id);
  });

  it('refuses bad input before it reaches the service', async () => {
    assert.equal((await refusal(sys.circle.createCircle({ ...newCircle(), name: '' }, owner.call))).code, Code.InvalidArgument);
    assert.equal((await refusal(sys.circle.createCircle({ ...newCircle(), memberCap: 10_001 }, owner.call))).code, Code.InvalidArgument);
    assert.equal(
      (await refusal(sys.circle.createCircle({ ...newCircle(), visibility: CircleVisibility.UNSPECIFIED }, owner.call))).code,
      Code.InvalidArgument,
    );
    assert.equal((await refusal(sys.circle.createCircle(newCircle()))).code, Code.Unauthenticated);
  });
});

describe('GetCircle', () => {
  it('hides a private circle from non-members as NotFound, and shows it to members and moderators', async () => {
    const { id } = await staffedCircle({ visibility: CircleVisibility.PRIVATE });
    const hidden = await refusal(sys.circle.getCircle({ circleId: id }, stranger.call));
    assert.equal(hidden.code, Code.NotFound);
    const missing = await refusal(sys.circle.getCircle({ circleId: '01900000-0000-7000-8000-000000000000' }, stranger.call));
    assert.equal(missing.code, Code.NotFound);
    assert.equal(missing.rawMessage, hidden.rawMessage, 'a hidden circle reads exactly like a missing one');
    // The service layer hides it too, without the rule in front.
    assert.equal((await refusal(sys.app.circles.get(stranger.actor, id))).code, Code.NotFound);
    const seen = await sys.circle.getCircle({ circleId: id }, member.call);
    assert.equal(seen.circle?.myMembership?.role, MemberRole.MEMBER);
    const mod = await sys.moderator();
    const modView = await sys.circle.getCircle({ circleId: id }, mod.call);
    assert.equal(modView.circle?.id, id);
    assert.equal(modView.circle?.myMembership, undefined);
  });

  it('shows a public circle to anyone signed in, without my_membership for non-members', async () => {
    const { id } = await staffedCircle();
    const { circle } = await sys.circle.getCircle({ circleId: id }, stranger.call);
    assert.equal(circle?.memberCount, 3);
    assert.equal(circle?.myMembership, undefined);
  });
});

describe('UpdateCircle', () => {
  it('changes only the fields that are set and bumps the version', async () => {
    const { id, version } = await staffedCircle();
    const { circle } = await sys.circle.updateCircle({ circleId: id, version, guidelines: 'No advice unless asked.' }, host.call);
    assert.equal(circle?.guidelines, 'No advice unless asked.');
    assert.equal(circle?.name, 'Evening walkers');
    assert.equal(circle?.description, 'We walk and talk after work.');
    assert.equal(circle?.version, version + 1n);
    const cleared = await sys.circle.updateCircle({ circleId: id, version: version + 1n, description: '' }, owner.call);
    assert.equal(cleared.circle?.description, '');
    assert.equal(cleared.circle?.guidelines, 'No advice unless asked.');
  });

  it('lets only the owner change visibility and member cap', async () => {
    const { id, version } = await staffedCircle();
    for (const change of [{ visibility: CircleVisibility.PRIVATE }, { memberCap: 50 }]) {
      const err = await refusal(sys.circle.updateCircle({ circleId: id, version, ...change }, host.call));
      assert.equal(err.code, Code.PermissionDenied, JSON.stringify(change));
    }
    assert.equal((await refusal(sys.circle.updateCircle({ circleId: id, version, name: 'Mine now' }, member.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.circle.updateCircle({ circleId: id, version, name: 'Mine now' }, stranger.call))).code, Code.PermissionDenied);
    const { circle } = await sys.circle.updateCircle({ circleId: id, version, memberCap: 50, visibility: CircleVisibility.PRIVATE }, owner.call);
    assert.equal(circle?.memberCap, 50);
    assert.equal(circle?.visibility, CircleVisibility.PRIVATE);
    // Members stay when a circle turns private; others no longer see it.
    assert.equal((await sys.circle.getCircle({ circleId: id }, member.call)).circle?.id, id);
    assert.equal((await refusal(sys.circle.getCircle({ circleId: id }, stranger.call))).code, Code.NotFound);
  });

  it('refuses a stale version with Aborted and a cap below the member count with FailedPrecondition', async () => {
    const { id, version } = await staffedCircle();
    await sys.circle.updateCircle({ circleId: id, version, name: 'First' }, owner.call);
    const stale = await refusal(sys.circle.updateCircle({ circleId: id, version, name: 'Second' }, host.call));
    assert.equal(stale.code, Code.Aborted);
    assert.equal((await sys.circle.getCircle({ circleId: id }, owner.call)).circle?.name, 'First');
    const low = await refusal(sys.circle.updateCircle({ circleId: id, version: version + 1n, memberCap: 2 }, owner.call));
    assert.equal(low.code, Code.FailedPrecondition);
    const atCount = await sys.circle.updateCircle({ circleId: id, version: version + 1n, memberCap: 3 }, owner.call);
    assert.equal(atCount.circle?.memberCap, 3);
    const none = await refusal(sys.circle.updateCircle({ circleId: id, version: version + 2n }, owner.call));
    assert.equal(none.code, Code.InvalidArgument, 'at least one field');
  });
});

describe('ArchiveCircle', () => {
  it('archives for the owner, idempotently, and the circle becomes read-only', async () => {
    const { id, version } = await staffedCircle();
    assert.equal((await refusal(sys.circle.archiveCircle({ circleId: id, version }, host.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.circle.archiveCircle({ circleId: id, version: version + 5n }, owner.call))).code, Code.Aborted);
    const { circle } = await sys.circle.archiveCircle({ circleId: id, version }, owner.call);
    assert.ok(circle?.archiveTime);
    assert.equal(circle?.version, version + 1n);
    const again = await sys.circle.archiveCircle({ circleId: id, version }, owner.call);
    assert.equal(again.circle?.version, version + 1n, 'unchanged, whatever the version');
    const upd = await refusal(sys.circle.updateCircle({ circleId: id, version: version + 1n, name: 'x' }, owner.call));
    assert.equal(upd.code, Code.FailedPrecondition);
    const join = await refusal(sys.circle.joinCircle({ target: { case: 'circleId', value: id } }, stranger.call));
    assert.equal(join.code, Code.FailedPrecondition);
    // Members may still leave.
    await sys.circle.leaveCircle({ circleId: id }, member.call);
  });

  it('lets a platform moderator archive any circle', async () => {
    const { id, version } = await staffedCircle({ visibility: CircleVisibility.PRIVATE });
    const mod = await sys.moderator();
    const { circle } = await sys.circle.archiveCircle({ circleId: id, version }, mod.call);
    assert.ok(circle?.archiveTime);
  });
});

describe('ListMyCircles', () => {
  it('pages through the caller\'s circles, most recently joined first, archived ones on request', async () => {
    const me = await sys.person('lister');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { circle } = await sys.circle.createCircle(newCircle({ name: `Mine ${i}` }), me.call);
      ids.push(circle?.id ?? '');
    }
    const { circle: archived } = await sys.circle.createCircle(newCircle({ name: 'Archived' }), me.call);
    await sys.circle.archiveCircle({ circleId: archived?.id ?? '', version: 1n }, me.call);
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await sys.circle.listMyCircles({ pageSize: 2, pageToken: token }, me.call);
      pages++;
      for (const c of page.circles) {
        assert.equal(c.myMembership?.role, MemberRole.OWNER);
        seen.push(c.id);
      }
      token = page.nextPageToken;
    } while (token);
    assert.deepEqual(seen, [...ids].reverse());
    assert.equal(pages, 3);
    const all = await sys.circle.listMyCircles({ includeArchived: true }, me.call);
    assert.deepEqual(
      all.circles.map((c) => c.id),
      [archived?.id, ...[...ids].reverse()],
    );
    const first = await sys.circle.listMyCircles({ pageSize: 2 }, me.call);
    const mixed = await refusal(sys.circle.listMyCircles({ pageSize: 2, pageToken: first.nextPageToken, includeArchived: true }, me.call));
    assert.equal(mixed.code, Code.InvalidArgument, 'a token is bound to its filters');
    assert.equal((await refusal(sys.circle.listMyCircles({ pageToken: 'garbage!' }, me.call))).code, Code.InvalidArgument);
  });
});

describe('DiscoverCircles', () => {
  it('lists public, active circles newest first, matching words, without banned or private ones', async () => {
    const tag = `zq${Date.now().toString(36)}`;
    const maker = await sys.person('maker');
    const make = async (name: string, visibility = CircleVisibility.PUBLIC) =>
      (await sys.circle.createCircle(newCircle({ name, description: `Grief support ${tag}`, visibility }), maker.call)).circle?.id ?? '';
    const a = await make('Morning pages');
    const b = await make('Mourning together');
    const hidden = await make('Secret garden', CircleVisibility.PRIVATE);
    const gone = await make('Old circle');
    await sys.circle.archiveCircle({ circleId: gone, version: 1n }, maker.call);
    const banning = await make('Strict room');
    await sys.circle.removeMember({ circleId: banning, userId: stranger.userId, ban: true, reason: 'spam' }, maker.call);

    const found = await sys.circle.discoverCircles({ query: tag }, stranger.call);
    assert.deepEqual(
      found.circles.map((c) => c.id),
      [b, a],
    );
    assert.ok(!found.circles.some((c) => c.id === hidden));
    // Prefixes of words, any order, case-insensitive; punctuation is not syntax.
    const morn = await sys.circle.discoverCircles({ query: `MORN ${tag} & !` }, stranger.call);
    assert.deepEqual(
      morn.circles.map((c) => c.id),
      [a],
    );
    // The banning circle shows to others, with my_membership for members.
    const mine = await sys.circle.discoverCircles({ query: tag }, maker.call);
    assert.deepEqual(
      mine.circles.map((c) => c.id),
      [banning, b, a],
    );
    assert.ok(mine.circles.every((c) => c.myMembership?.role === MemberRole.OWNER));
  });

  it('pages with a token bound to the query', async () => {
    const tag = `pg${Date.now().toString(36)}`;
    const maker = await sys.person('pager');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sys.circle.createCircle(newCircle({ name: `Page ${tag} ${i}` }), maker.call)).circle?.id ?? '');
    const seen: string[] = [];
    let token = '';
    do {
      const page = await sys.circle.discoverCircles({ query: tag, pageSize: 2, pageToken: token }, stranger.call);
      seen.push(...page.circles.map((c) => c.id));
      token = page.nextPageToken;
    } while (token);
    assert.deepEqual(seen, [...ids].reverse());
    const first = await sys.circle.discoverCircles({ query: tag, pageSize: 2 }, stranger.call);
    assert.equal((await refusal(sys.circle.discoverCircles({ query: 'other', pageToken: first.nextPageToken }, stranger.call))).code, Code.InvalidArgument);
  });

  it('never shows circles whose owner has a block with the caller, either way', async () => {
    const tag = `bl${Date.now().toString(36)}`;
    const [blocker, blocked, bystander] = await Promise.all([sys.person('blocker'), sys.person('blocked'), sys.person('bystander')]);
    // A block needs both profiles (seeded people have theirs at once; an account's comes through the auth service's job queue).
    for (const p of [blocker, blocked]) await eventually(() => sys.user.getMe({}, p.call));
    const ofBlocked = (await sys.circle.createCircle(newCircle({ name: `Blocked owner ${tag}` }), blocked.call)).circle?.id;
    const ofBlocker = (await sys.circle.createCircle(newCircle({ name: `Blocker owner ${tag}` }), blocker.call)).circle?.id;
    // Enough circles of the blocked owner to fill several batches: the page must still fill up.
    const filler: string[] = [];
    for (let i = 0; i < 6; i++) filler.push((await sys.circle.createCircle(newCircle({ name: `Filler ${tag} ${i}` }), blocked.call)).circle?.id ?? '');
    const visible = (await sys.circle.createCircle(newCircle({ name: `Bystander ${tag}` }), bystander.call)).circle?.id;
    const before = await sys.circle.discoverCircles({ query: tag }, blocker.call);
    assert.ok(before.circles.some((c) => c.id === ofBlocked));
    await sys.user.blockUser({ userId: blocked.userId }, blocker.call);
    await eventually(async () => {
      const after = await sys.circle.discoverCircles({ query: tag }, blocker.call);
      assert.deepEqual(
        after.circles.map((c) => c.id),
        [visible, ofBlocker],
      );
    });
    const theirs = await sys.circle.discoverCircles({ query: tag }, blocked.call);
    assert.ok(!theirs.circles.some((c) => c.id === ofBlocker), 'the block works both ways');
    const pageOne = await sys.circle.discoverCircles({ query: tag, pageSize: 1 }, blocker.call);
    assert.deepEqual(
      pageOne.circles.map((c) => c.id),
      [visible],
    );
    const pageTwo = await sys.circle.discoverCircles({ query: tag, pageSize: 1, pageToken: pageOne.nextPageToken }, blocker.call);
    assert.deepEqual(
      pageTwo.circles.map((c) => c.id),
      [ofBlocker],
    );
    const rest = pageTwo.nextPageToken ? await sys.circle.discoverCircles({ query: tag, pageSize: 1, pageToken: pageTwo.nextPageToken }, blocker.call) : undefined;
    assert.ok(!rest || rest.circles.length === 0);
    assert.ok(!filler.includes(visible ?? ''));
  });
});

/** Retries `fn` until it stops throwing (cross-service effects arrive within a few seconds). */
async function eventually<T>(fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
